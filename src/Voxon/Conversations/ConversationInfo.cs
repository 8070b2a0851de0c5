namespace Voxon.Conversations;

/// <summary>A read-only description of a conversation in a session.</summary>
/// <param name="ConversationId">Id, unique in the session.</param>
/// <param name="ParentId">The conversation this one branched from, if any.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="EndedAt">When it last ended; null while open.</param>
/// <param name="TurnCount">Messages in its transcript (user and assistant).</param>
public sealed record ConversationInfo(string ConversationId, string? ParentId, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, int TurnCount)
{
    /// <summary>Whether the conversation is open.</summary>
    public bool IsActive => EndedAt is null;
}
