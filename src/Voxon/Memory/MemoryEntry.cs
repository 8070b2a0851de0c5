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

    /// <summary>
    /// When what the memory describes happened (a conversation turn's time, or a date given to <c>AddMemory</c>),
    /// as opposed to <see cref="CreatedAt"/>, when it was stored. Relative dates in <see cref="Content"/> ("yesterday")
    /// are resolved against it. Entries stored before this existed read their <see cref="CreatedAt"/>.
    /// </summary>
    public DateTimeOffset OccurredAt
    {
        get => _occurredAt ?? CreatedAt;
        init => _occurredAt = value;
    }

    private readonly DateTimeOffset? _occurredAt;

    /// <summary>
    /// Text indexed with the memory but not shown as its content: for a memory from a conversation turn, the
    /// neighbouring turn(s), so that a reply such as "yes, the red one" is found by what it answers. Null for none.
    /// </summary>
    public string? Context { get; init; }

    /// <summary>The id of the model that computed <see cref="Embedding"/>; a load under another model re-embeds the memory.</summary>
    public string? EmbeddingModel { get; init; }

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

    /// <summary>The memory's embedding (normalised float32), stored as binary so a load does not recompute it; empty for
    /// none. Entries of one load share one block of vectors (a slice each) instead of one array per memory.</summary>
    [JsonConverter(typeof(Storage.EmbeddingJsonConverter))]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public ReadOnlyMemory<float> Embedding
    {
        get => _embedding;

        // Every empty vector is the default one, so "none" is left out of JSON like a null was.
        init => _embedding = value.IsEmpty ? default : value;
    }

    private readonly ReadOnlyMemory<float> _embedding;

    /// <summary>Whether the memory is current (not superseded) and not expired at <paramref name="now"/>.</summary>
    public bool IsLive(DateTimeOffset now) => SupersededBy is null && (ExpiresAt is null || ExpiresAt > now);

    /// <summary>A copy whose content is <c>[REDACTED]</c> when the memory is sensitive, without the embedding.</summary>
    public MemoryEntry Redacted() => Sensitive
        ? this with { Content = Security.Redaction.Marker, Context = null, Embedding = default }
        : this with { Embedding = default };
}
