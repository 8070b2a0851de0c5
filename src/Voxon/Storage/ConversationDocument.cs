using Voxon.Conversations;

namespace Voxon.Storage;

/// <summary>A stored conversation and its transcript.</summary>
public sealed class ConversationDocument
{
    /// <summary>Id, unique in the session.</summary>
    public required string ConversationId { get; set; }

    /// <summary>The conversation it branched from.</summary>
    public string? ParentId { get; set; }

    /// <summary>Turns of the parent the branch started with.</summary>
    public int BranchPoint { get; set; }

    /// <summary>Start time.</summary>
    public DateTimeOffset StartedAt { get; set; }

    /// <summary>End time; null when it was open at the save.</summary>
    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>Time of the last message.</summary>
    public DateTimeOffset LastActivityAt { get; set; }

    /// <summary>Seconds the conversation was open.</summary>
    public double DurationSeconds { get; set; }

    /// <summary>Memories ContextWeaver injected over the conversation.</summary>
    public int InjectionCount { get; set; }

    /// <summary>The transcript.</summary>
    public List<ConversationTurn> Turns { get; set; } = [];

    /// <summary>A shallow copy without the turns (the header stored apart from them).</summary>
    internal ConversationDocument WithoutTurns()
    {
        var copy = (ConversationDocument)MemberwiseClone();
        copy.Turns = [];
        return copy;
    }
}
