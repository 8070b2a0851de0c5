namespace Voxon.Sharing;

/// <summary>The basic analytics a shared view may read.</summary>
/// <param name="ConversationCount">Conversations in the session.</param>
/// <param name="MessageCount">Messages in all transcripts.</param>
/// <param name="TotalDurationSeconds">Seconds of conversation in total.</param>
/// <param name="AvgDurationSeconds">Average seconds per conversation.</param>
/// <param name="MemoryCount">Live memory entries.</param>
public sealed record SharedSessionAnalytics(int ConversationCount, int MessageCount, double TotalDurationSeconds, double AvgDurationSeconds, int MemoryCount);
