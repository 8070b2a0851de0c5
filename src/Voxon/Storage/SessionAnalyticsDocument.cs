using Voxon.Analytics;

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

    /// <summary>Mentions of the most frequent topic phrases of the user's messages.</summary>
    public Dictionary<string, int> TopicCounts { get; set; } = [];

    /// <summary>User messages per hour of day (24 entries) in the session's time zone.</summary>
    public int[] HourlyMessages { get; set; } = new int[24];

    /// <summary>Sum of per-message sentiment (-1..1) over messages that expressed any.</summary>
    public double SentimentSum { get; set; }

    /// <summary>Messages that expressed sentiment.</summary>
    public int SentimentSamples { get; set; }

    /// <summary>Custom metrics by name (<c>track_metric</c>).</summary>
    public Dictionary<string, CustomMetric> CustomMetrics { get; set; } = [];

    /// <summary>Milestones already fired (so a loaded session does not fire them again).</summary>
    public List<string> Milestones { get; set; } = [];
}
