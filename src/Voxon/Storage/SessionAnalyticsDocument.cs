namespace Voxon.Storage;

/// <summary>The <c>analytics</c> part of a stored session.</summary>
public sealed class SessionAnalyticsDocument
{
    /// <summary>Conversations in the session.</summary>
    public int ConversationCount { get; set; }

    /// <summary>Messages in all transcripts.</summary>
    public int MessageCount { get; set; }

    /// <summary>Seconds of conversation in total.</summary>
    public double TotalDurationSeconds { get; set; }

    /// <summary>Average seconds per conversation.</summary>
    public double AvgDurationSeconds { get; set; }
}
