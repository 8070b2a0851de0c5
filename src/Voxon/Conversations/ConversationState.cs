namespace Voxon.Conversations;

/// <summary>The mutable record of a conversation, owned by its session and guarded by the session's lock.</summary>
internal sealed class ConversationState
{
    private List<ConversationTurn> _turns = [];

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

    /// <summary>The transcript; for a lazily loaded session, reading it first loads the session's content.</summary>
    public List<ConversationTurn> Turns
    {
        get
        {
            Hydrate?.Invoke();
            return _turns;
        }

        init => _turns = value;
    }

    /// <summary>Loads a lazily loaded session's content; null once loaded (or when loaded eagerly).</summary>
    public Action? Hydrate { get; set; }

    /// <summary>Turns already stored: a save writes only those after them.</summary>
    public int SavedTurnCount { get; set; }

    /// <summary>The header as last stored: a save rewrites the header only when it differs.</summary>
    public (DateTimeOffset? EndedAt, DateTimeOffset LastActivityAt, int InjectionCount, int Turns) SavedStamp { get; set; }

    /// <summary>The transcript without loading it: what is stored when a lazy load has not loaded it yet.</summary>
    public int TurnCountLoaded => Hydrate is null ? _turns.Count : SavedTurnCount;

    public (DateTimeOffset? EndedAt, DateTimeOffset LastActivityAt, int InjectionCount, int Turns) Stamp => (EndedAt, LastActivityAt, InjectionCount, TurnCountLoaded);

    /// <summary>Call after replacing turn <paramref name="index"/> or later ones in place (e.g. marking a reply
    /// interrupted): the next save rewrites the transcript from there. Appended turns need nothing.</summary>
    public void TurnsChangedFrom(int index) => SavedTurnCount = Math.Min(SavedTurnCount, Math.Max(0, index));

    /// <summary>Puts the stored transcript in place (lazy load) without triggering a load.</summary>
    public void SetStoredTurns(List<ConversationTurn> turns)
    {
        _turns = turns;
        SavedTurnCount = turns.Count;
        Hydrate = null;
    }

    public int InjectionCount { get; set; }

    public ConversationInfo ToInfo() => new(Id, ParentId, StartedAt, EndedAt, Turns.Count);

    /// <summary>Seconds of conversation, counting the open period up to <paramref name="now"/>.</summary>
    public double DurationSeconds(DateTimeOffset now) =>
        ActiveSeconds + (EndedAt is null ? Math.Max(0, (now - OpenedAt).TotalSeconds) : 0);
}
