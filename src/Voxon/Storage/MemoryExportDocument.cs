using Voxon.Memory;

namespace Voxon.Storage;

/// <summary>The shape of <see cref="Sessions.Session.ExportMemory"/>: the spec's memory section with the session it came from.</summary>
public sealed class MemoryExportDocument
{
    /// <summary>The session the memory belongs to.</summary>
    public required string SessionId { get; set; }

    /// <summary>The owner.</summary>
    public required string UserId { get; set; }

    /// <summary>When the export was made.</summary>
    public DateTimeOffset ExportedAt { get; set; }

    /// <summary>Live entries; sensitive ones redacted unless the caller opted in; no embeddings.</summary>
    public List<MemoryEntry> Entries { get; set; } = [];

    /// <summary>Tokens of the live entries.</summary>
    public int TokenCount { get; set; }

    /// <summary>The session's max_memory_size.</summary>
    public int MaxTokens { get; set; }
}
