namespace Voxon.Conversations;

/// <summary>The mutable record of a conversation, owned by its session and guarded by the session's lock.</summary>
internal sealed class ConversationState
{
    public required string Id { get; init; }

    public string? ParentId { get; init; }

    /// <summary>How many of the parent's turns the branch started with.</summary>
    public int BranchPoint { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; set; }

    public DateTimeOffset LastActivityAt { get; set; }

    /// <summary>Seconds the conversation was open, summed over its resumptions.</summary>
    public double ActiveSeconds { get; set; }

    /// <summary>When the current open period began (start or resumption).</summary>
    public DateTimeOffset OpenedAt { get; set; }

    public List<ConversationTurn> Turns { get; init; } = [];

    public int InjectionCount { get; set; }

    public ConversationInfo ToInfo() => new(Id, ParentId, StartedAt, EndedAt, Turns.Count);

    /// <summary>Seconds of conversation, counting the open period up to <paramref name="now"/>.</summary>
    public double DurationSeconds(DateTimeOffset now) =>
        ActiveSeconds + (EndedAt is null ? Math.Max(0, (now - OpenedAt).TotalSeconds) : 0);
}
