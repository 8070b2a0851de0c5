using System.Text.Json.Serialization;

namespace Voxon.Analytics;

/// <summary>Data of the <c>analytics.milestone</c> event. Each milestone fires once per session, also across save and load.</summary>
/// <param name="Milestone">Its name: <c>first_conversation</c>, <c>conversations_10</c>, <c>messages_100</c>...</param>
/// <param name="Metric">What was counted: <c>conversation_count</c> or <c>message_count</c>.</param>
/// <param name="Threshold">The count that makes the milestone.</param>
/// <param name="Value">The count when it was noticed (at least <paramref name="Threshold"/>).</param>
/// <param name="ReachedAt">When it was noticed.</param>
public sealed record AnalyticsMilestone(
    [property: JsonPropertyName("milestone")] string Milestone,
    [property: JsonPropertyName("metric")] string Metric,
    [property: JsonPropertyName("threshold")] int Threshold,
    [property: JsonPropertyName("value")] int Value,
    [property: JsonPropertyName("reached_at")] DateTimeOffset ReachedAt);
