using System.Text.Json.Serialization;

namespace Voxon.Memory;

/// <summary>
/// One thing the assistant remembers. Immutable: changes (supersession, expiry) produce a new entry
/// with <c>with</c>, so snapshots handed out are never changed underneath the reader.
/// Persisted with the spec's snake_case keys (<c>content</c>, <c>timestamp</c>, <c>importance</c>, <c>category</c>, ...).
/// </summary>
public sealed record MemoryEntry
{
    /// <summary>Stable id (<c>mem_</c> and 16 hex digits).</summary>
    public required string Id { get; init; }

    /// <summary>The remembered fact, as one sentence ("User's name is Alice").</summary>
    public required string Content { get; init; }

    /// <summary>Category such as identity, interest, preference, contact, note.</summary>
    public required string Category { get; init; }

    /// <summary>0 (trivia) to 1 (never evict silently).</summary>
    public double Importance { get; init; }

    /// <summary>When the memory was made (the spec's <c>timestamp</c>).</summary>
    [JsonPropertyName("timestamp")]
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the memory last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>After this instant the memory is gone from everything; null for no expiry.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Sensitive memories are redacted in exports, events, debug output and (unless opted in) model context.</summary>
    public bool Sensitive { get; init; }

    /// <summary>How the memory was made.</summary>
    public MemorySource Source { get; init; }

    /// <summary>The branch conversation the memory is scoped to; null for the whole session.</summary>
    public string? Scope { get; init; }

    /// <summary>The conversation in which the memory was made, if any.</summary>
    public string? ConversationId { get; init; }

    /// <summary>The single-valued fact this memory fills (e.g. <c>identity.name</c>); a newer memory in the same slot supersedes it.</summary>
    public string? Slot { get; init; }

    /// <summary>Id of the memory that replaced this one; superseded memories are kept as history, not searched as current.</summary>
    public string? SupersededBy { get; init; }

    /// <summary>The user who wrote a note through a shared view.</summary>
    public string? Author { get; init; }

    /// <summary>Tokens of <see cref="Content"/> in o200k_base.</summary>
    public int TokenCount { get; init; }

    /// <summary>When true the memory ends with its conversation (ephemeral mode, or below the hybrid threshold) and is never written to storage.</summary>
    [JsonIgnore]
    public bool Transient { get; init; }

    /// <summary>The memory's embedding (normalised float32), stored as binary so a load does not recompute it.</summary>
    [JsonConverter(typeof(Storage.EmbeddingJsonConverter))]
    public float[]? Embedding { get; init; }

    /// <summary>Whether the memory is current (not superseded) and not expired at <paramref name="now"/>.</summary>
    public bool IsLive(DateTimeOffset now) => SupersededBy is null && (ExpiresAt is null || ExpiresAt > now);

    /// <summary>A copy whose content is <c>[REDACTED]</c> when the memory is sensitive, without the embedding.</summary>
    public MemoryEntry Redacted() => Sensitive
        ? this with { Content = Security.Redaction.Marker, Embedding = null }
        : this with { Embedding = null };
}
