using System.Text.Json.Serialization;

namespace Voxon.Diagnostics;

/// <summary>A change of state seen in debug mode: the session, a conversation or debug mode itself.</summary>
/// <param name="Timestamp">When.</param>
/// <param name="Subject"><c>session</c>, <c>conversation ID</c> or <c>debug</c>.</param>
/// <param name="From">The state before (<c>none</c> for a new subject).</param>
/// <param name="To">The state after.</param>
public sealed record StateTransition(
    [property: JsonPropertyName("timestamp")] DateTimeOffset Timestamp,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("from")] string From,
    [property: JsonPropertyName("to")] string To)
{
    /// <summary>The JSON-lines record kind.</summary>
    [JsonPropertyName("kind")]
    [JsonPropertyOrder(-1)]
    public string Kind => "state_transition";

    /// <inheritdoc />
    public override string ToString() => $"{Subject}: {From} -> {To}";
}
