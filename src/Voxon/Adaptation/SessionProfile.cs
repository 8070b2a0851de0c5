using System.Text.Json.Serialization;

namespace Voxon.Adaptation;

/// <summary>
/// A portable preference profile (the spec's <c>export_preference_profile()</c>): learned preferences with the
/// evidence behind them, overrides and topics of interest. Apply it to a new session with
/// <see cref="VoxonClient.CreateSessionAsync(string, Sessions.SessionConfig?, SessionProfile, CancellationToken)"/>;
/// combine several with <see cref="Merge"/>. Plain data: serializable with System.Text.Json.
/// </summary>
public sealed record SessionProfile
{
    /// <summary>The user the profile was learned from, when known.</summary>
    [JsonPropertyName("user_id")]
    public string? UserId { get; init; }

    /// <summary>The learned values (without overrides applied).</summary>
    [JsonPropertyName("preferences")]
    public LearnedPreferences Preferences { get; init; } = new();

    /// <summary>Explicit overrides (name to value).</summary>
    [JsonPropertyName("overrides")]
    public IReadOnlyDictionary<string, string> Overrides { get; init; } = new Dictionary<string, string>();

    /// <summary>Topics of interest, most important first.</summary>
    [JsonPropertyName("topics")]
    public IReadOnlyList<string> Topics { get; init; } = [];

    /// <summary>User messages the learned values are based on; the weight of this profile in <see cref="Merge"/>.</summary>
    [JsonIgnore]
    public int EvidenceCount => Preferences.EvidenceCount;

    /// <summary>Combines profiles: each learned value is the evidence-weighted mean (speaking pace weighted by its own
    /// samples), evidence adds up, overrides of later profiles win, topics are ranked by evidence-weighted rank.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="profiles"/> or one of them is null.</exception>
    public static SessionProfile Merge(IEnumerable<SessionProfile> profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        var list = profiles.ToList();
        foreach (var profile in list)
        {
            ArgumentNullException.ThrowIfNull(profile, nameof(profiles));
        }

        if (list.Count == 0)
        {
            return new SessionProfile();
        }

        var evidence = list.Sum(p => p.EvidenceCount);

        // Profiles without evidence count equally among themselves, so merging fresh profiles still averages.
        double Weight(SessionProfile p) => evidence == 0 ? 1 : p.EvidenceCount;
        var total = list.Sum(Weight);
        double Mean(Func<LearnedPreferences, double> value) => list.Sum(p => Weight(p) * value(p.Preferences)) / total;

        var paced = list.Where(p => p.Preferences.SpeakingPace is not null).ToList();
        var paceSamples = paced.Sum(p => p.Preferences.SpeakingPaceSamples);
        double? pace = paced.Count == 0
            ? null
            : paced.Sum(p => p.Preferences.SpeakingPace!.Value * Math.Max(1, p.Preferences.SpeakingPaceSamples)) / paced.Sum(p => Math.Max(1, p.Preferences.SpeakingPaceSamples));

        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in list.SelectMany(p => p.Overrides))
        {
            overrides[name] = value;
        }

        var topics = list
            .SelectMany(p => p.Topics.Select((topic, rank) => (topic, score: Weight(p) / (rank + 1.0))))
            .GroupBy(t => t.topic, StringComparer.Ordinal)
            .OrderByDescending(g => g.Sum(t => t.score))
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key)
            .Take(PreferenceLearner.MaxProfileTopics);

        return new SessionProfile
        {
            UserId = list.Select(p => p.UserId).Distinct().Count() == 1 ? list[0].UserId : null,
            Preferences = new LearnedPreferences
            {
                SpeakingPace = pace,
                SpeakingPaceSamples = paceSamples,
                AvgMessageLength = Mean(p => p.AvgMessageLength),
                FormalityScore = Mean(p => p.FormalityScore),
                TechnicalLevel = Mean(p => p.TechnicalLevel),
                Verbosity = Mean(p => p.Verbosity),
                EvidenceCount = evidence,
            },
            Overrides = overrides,
            Topics = [.. topics],
        };
    }
}
