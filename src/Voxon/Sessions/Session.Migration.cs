using Voxon.Migration;
using Voxon.Sharing;

namespace Voxon.Sessions;

public sealed partial class Session
{
    /// <summary>Exports everything of the session (the spec's <c>export_full</c>): config, memory with embeddings,
    /// conversations and transcripts, analytics, preferences, template context and its shares' metadata (never tokens),
    /// as a versioned, checksummed document for <see cref="VoxonClient.ImportSessionAsync(SessionExport, IReadOnlyDictionary{string, string}?, bool, CancellationToken)"/>.</summary>
    /// <remarks>Exports the session as it is in memory (what a save would store), with the version it was last saved as.
    /// Sensitive memories are in clear: protect the export like the storage.</remarks>
    /// <exception cref="Storage.VoxonStorageException">Listing the shares failed.</exception>
    public async Task<SessionExport> ExportFullAsync(CancellationToken cancellationToken = default)
    {
        await _pendingEmbeddings.CompleteAsync(cancellationToken);
        Storage.SessionDocument document;
        DateTimeOffset now;
        lock (_gate)
        {
            now = _runtime.Time.GetUtcNow();
            DropExpired(now);
            document = ToDocument(now);
            document.Version = Version;
        }

        var shares = await Shares.ListAsync(_runtime, SessionId, cancellationToken);
        return SessionExport.Create(document, shares, now);
    }
}
