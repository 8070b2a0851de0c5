using System.Text.Json.Serialization;

namespace Voxon.Adaptation;

/// <summary>What the session learned about how the user talks (the spec's <c>get_learned_preferences()</c>).
/// Scores are 0..1. From <see cref="Sessions.Session.GetLearnedPreferences"/> the values are effective ones:
/// an override set with <see cref="Sessions.Session.SetPreference"/> wins over the learned value.</summary>
public sealed record LearnedPreferences
{
    /// <summary>Words per minute of the user's speech; null until a message arrives with its audio duration.</summary>
    [JsonPropertyName("speaking_pace")]
    public double? SpeakingPace { get; init; }

    /// <summary>Messages that carried audio timing (the evidence behind <see cref="SpeakingPace"/>).</summary>
    [JsonPropertyName("speaking_pace_samples")]
    public int SpeakingPaceSamples { get; init; }

    /// <summary>Average words per user message.</summary>
    [JsonPropertyName("avg_message_length")]
    public double AvgMessageLength { get; init; }

    /// <summary>0 casual .. 1 formal.</summary>
    [JsonPropertyName("formality_score")]
    public double FormalityScore { get; init; } = 0.5;

    /// <summary>0 plain language .. 1 dense technical vocabulary.</summary>
    [JsonPropertyName("technical_level")]
    public double TechnicalLevel { get; init; }

    /// <summary>0 short answers .. 1 detailed answers: grows with the user's own message length, shrinks when replies are interrupted.</summary>
    [JsonPropertyName("verbosity")]
    public double Verbosity { get; init; } = 0.5;

    /// <summary>User messages the values are based on (including those carried in from a profile).</summary>
    [JsonPropertyName("evidence_count")]
    public int EvidenceCount { get; init; }

    /// <summary>The overrides in force (name to value), which the scores above already reflect where they name one of them.</summary>
    [JsonPropertyName("overrides")]
    public IReadOnlyDictionary<string, string> Overrides { get; init; } = new Dictionary<string, string>();
}
