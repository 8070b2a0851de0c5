using System.Text.Json.Serialization;

namespace Voxon.Diagnostics;

/// <summary>An event seen in debug mode. Its data is summarised (message text left out, sensitive values redacted).</summary>
/// <param name="Timestamp">When it was raised.</param>
/// <param name="Type">The event name.</param>
/// <param name="Summary">A redacted description of its data.</param>
public sealed record DebugEvent(
    [property: JsonPropertyName("timestamp")] DateTimeOffset Timestamp,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("summary")] string? Summary)
{
    /// <summary>The JSON-lines record kind.</summary>
    [JsonPropertyName("kind")]
    [JsonPropertyOrder(-1)]
    public string Kind => "event";
}
