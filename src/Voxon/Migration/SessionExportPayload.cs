using Voxon.Sharing;
using Voxon.Storage;

namespace Voxon.Migration;

/// <summary>The checksummed <c>payload</c> of a session export: the full stored session and its shares' metadata.</summary>
internal sealed class SessionExportPayload
{
    /// <summary>Everything stored of the session, embeddings included.</summary>
    public required SessionDocument Session { get; set; }

    /// <summary>The session's shares: metadata only, never tokens or token hashes.</summary>
    public required List<ShareInfo> Shares { get; set; }
}
