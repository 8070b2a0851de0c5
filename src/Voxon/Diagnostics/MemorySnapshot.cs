using System.Text.Json.Serialization;
using Voxon.Memory;

namespace Voxon.Diagnostics;

/// <summary>The memory as it was after a change, taken in debug mode.</summary>
/// <param name="Timestamp">When.</param>
/// <param name="Trigger">The event that caused it.</param>
/// <param name="EntryCount">Live entries.</param>
/// <param name="TokenCount">Tokens in use.</param>
/// <param name="MaxTokens">The budget (max_memory_size).</param>
/// <param name="Entries">The most recent entries (at most <see cref="MaxEntries"/>), redacted and without embeddings.</param>
public sealed record MemorySnapshot(
    [property: JsonPropertyName("timestamp")] DateTimeOffset Timestamp,
    [property: JsonPropertyName("trigger")] string Trigger,
    [property: JsonPropertyName("entry_count")] int EntryCount,
    [property: JsonPropertyName("token_count")] int TokenCount,
    [property: JsonPropertyName("max_tokens")] int MaxTokens,
    [property: JsonPropertyName("entries")] IReadOnlyList<MemoryEntry> Entries)
{
    /// <summary>Most entries kept in one snapshot, so snapshots of a large memory stay small.</summary>
    public const int MaxEntries = 20;

    /// <summary>The JSON-lines record kind.</summary>
    [JsonPropertyName("kind")]
    [JsonPropertyOrder(-1)]
    public string Kind => "memory_snapshot";
}
