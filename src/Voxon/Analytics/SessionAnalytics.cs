using System.Text.Json.Serialization;

namespace Voxon.Analytics;

/// <summary>A session's analytics (the spec's <c>session.get_analytics()</c>), from <see cref="Sessions.Session.GetAnalytics"/>.</summary>
public sealed record SessionAnalytics
{
    /// <summary>Conversations in the session, branches included.</summary>
    [JsonPropertyName("conversation_count")]
    public int ConversationCount { get; init; }

    /// <summary>Messages in all transcripts (user and assistant).</summary>
    [JsonPropertyName("message_count")]
    public int MessageCount { get; init; }

    /// <summary>Average seconds per conversation (0 without conversations).</summary>
    [JsonPropertyName("avg_duration_seconds")]
    public double AvgDurationSeconds { get; init; }

    /// <summary>Seconds of conversation in total, counting open conversations up to now.</summary>
    [JsonPropertyName("total_duration_seconds")]
    public double TotalDurationSeconds { get; init; }

    /// <summary>Subjects the user talked about, most discussed first (key phrases of the user's messages).</summary>
    [JsonPropertyName("topics")]
    public IReadOnlyList<string> Topics { get; init; } = [];

    /// <summary>How often each of <see cref="Topics"/> came up.</summary>
    [JsonPropertyName("topic_mentions")]
    public IReadOnlyDictionary<string, int> TopicMentions { get; init; } = new Dictionary<string, int>();

    /// <summary>1..5: the average of explicit <c>user_satisfaction</c> metrics when there are any, otherwise estimated
    /// from what the user said; 3 (neutral) when nothing is known.</summary>
    [JsonPropertyName("satisfaction_score")]
    public double SatisfactionScore { get; init; }

    /// <summary>Where <see cref="SatisfactionScore"/> came from: <c>explicit</c>, <c>estimated</c> or <c>none</c>.</summary>
    [JsonPropertyName("satisfaction_source")]
    public string SatisfactionSource { get; init; } = "none";

    /// <summary>The hours of day (0..23, in the session's time zone) with the most user messages, busiest first (at most 3).</summary>
    [JsonPropertyName("active_hours")]
    public IReadOnlyList<int> ActiveHours { get; init; } = [];

    /// <summary>User messages per hour of day (24 entries, index = hour in the session's time zone).</summary>
    [JsonPropertyName("hourly_activity")]
    public IReadOnlyList<int> HourlyActivity { get; init; } = new int[24];

    /// <summary>The time zone the hours are in (<see cref="Sessions.SessionConfig.TimeZone"/>).</summary>
    [JsonPropertyName("time_zone")]
    public string TimeZone { get; init; } = "UTC";
}
