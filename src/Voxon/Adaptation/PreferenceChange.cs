using System.Text.Json.Serialization;

namespace Voxon.Adaptation;

/// <summary>Data of the <c>preference.learned</c> event: a learned preference first became known or moved meaningfully.</summary>
/// <param name="Name"><c>speaking_pace</c>, <c>avg_message_length</c>, <c>formality_score</c>, <c>technical_level</c> or <c>verbosity</c>.</param>
/// <param name="Previous">The value last announced; null the first time.</param>
/// <param name="Current">The value now.</param>
/// <param name="EvidenceCount">User messages it is based on.</param>
public sealed record PreferenceChange(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("previous")] double? Previous,
    [property: JsonPropertyName("current")] double Current,
    [property: JsonPropertyName("evidence_count")] int EvidenceCount);
