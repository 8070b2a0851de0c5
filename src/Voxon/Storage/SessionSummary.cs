namespace Voxon.Storage;

/// <summary>What a listing shows of a stored session.</summary>
public sealed record SessionSummary(string SessionId, string UserId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int ConversationCount, int MessageCount);
