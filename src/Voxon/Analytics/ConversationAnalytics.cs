using System.Text.Json.Serialization;

namespace Voxon.Analytics;

/// <summary>One conversation's analytics (the spec's <c>conversation.get_analytics()</c>).</summary>
public sealed record ConversationAnalytics
{
    /// <summary>The conversation.</summary>
    [JsonPropertyName("conversation_id")]
    public required string ConversationId { get; init; }

    /// <summary>Seconds the conversation has been open, summed over its resumptions.</summary>
    [JsonPropertyName("duration_seconds")]
    public double DurationSeconds { get; init; }

    /// <summary>Messages in its transcript (user and assistant).</summary>
    [JsonPropertyName("turn_count")]
    public int TurnCount { get; init; }

    /// <summary>Assistant replies the user interrupted (<see cref="Conversations.Conversation.ReportInterruption"/>).</summary>
    [JsonPropertyName("interruption_count")]
    public int InterruptionCount { get; init; }

    /// <summary>Memories ContextWeaver injected into its turns.</summary>
    [JsonPropertyName("injection_count")]
    public int InjectionCount { get; init; }

    /// <summary>Average time the engine took to answer, in milliseconds (0 before the first reply).</summary>
    [JsonPropertyName("avg_response_time_ms")]
    public double AvgResponseTimeMs { get; init; }
}
