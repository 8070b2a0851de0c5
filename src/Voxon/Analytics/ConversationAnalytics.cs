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

    /// <summary>Assistant replies the user interrupted (<see cref="Conversations.Conversation.Interrupt(string)"/>).</summary>
    [JsonPropertyName("interruption_count")]
    public int InterruptionCount { get; init; }

    /// <summary>Memories ContextWeaver injected into its turns.</summary>
    [JsonPropertyName("injection_count")]
    public int InjectionCount { get; init; }

    /// <summary>Average time the engine took to answer, in milliseconds (0 before the first reply).</summary>
    [JsonPropertyName("avg_response_time_ms")]
    public double AvgResponseTimeMs { get; init; }

    /// <summary>Average time from the user's message to the first chunk of a streamed reply, in milliseconds (0 before the first streamed reply).</summary>
    [JsonPropertyName("avg_time_to_first_token_ms")]
    public double AvgTimeToFirstTokenMs { get; init; }
}
