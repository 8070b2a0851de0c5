using System.Globalization;
using System.Text.Json.Serialization;
using Voxon.Sessions;

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

    /// <summary>What is wrong with this profile, one entry per problem (empty when it can seed a session). A profile is
    /// plain data, often read back from JSON, so nothing in it is trusted: its overrides meet the rules of
    /// <see cref="Session.SetPreference"/>, its scores the ranges the learner produces.</summary>
    internal List<string> Problems()
    {
        var problems = new List<string>();
        if (Preferences is not { } p)
        {
            problems.Add("preferences are missing");
        }
        else
        {
            void Score(string name, double value, double? max = null)
            {
                if (!double.IsFinite(value) || value < 0 || value > max)
                {
                    var range = max is null ? "a non-negative number" : string.Create(CultureInfo.InvariantCulture, $"a number from 0 to {max}");
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} must be {range}, got {value}"));
                }
            }

            Score(PreferenceLearner.Formality, p.FormalityScore, 1);
            Score(PreferenceLearner.TechnicalLevel, p.TechnicalLevel, 1);
            Score(PreferenceLearner.Verbosity, p.Verbosity, 1);
            Score(PreferenceLearner.AvgMessageLength, p.AvgMessageLength);
            if (p.SpeakingPace is { } pace)
            {
                Score(PreferenceLearner.SpeakingPace, pace);
            }

            if (p.EvidenceCount < 0 || p.SpeakingPaceSamples < 0)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"evidence_count and speaking_pace_samples may not be negative, got {p.EvidenceCount} and {p.SpeakingPaceSamples}"));
            }
        }

        if (Overrides is null)
        {
            problems.Add("overrides are missing");
        }
        else
        {
            foreach (var (name, value) in Overrides)
            {
                if ((value is null ? $"override '{name}' has no value" : PreferenceLearner.OverrideProblem(name, value)) is { } problem)
                {
                    problems.Add(problem);
                }
            }

            problems.AddRange(PreferenceLearner.AmbiguousOverrides(Overrides.Keys));
        }

        if (Topics is null)
        {
            problems.Add("topics are missing");
        }
        else if (Topics.Any(t => string.IsNullOrWhiteSpace(t) || WellFormedText.Problem(t, "topic") is not null))
        {
            problems.Add("topics must be non-empty, well-formed text");
        }

        return problems;
    }

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

        // Summed as long and capped like the learner's own counts: merging large profiles must not overflow.
        var evidence = (int)Math.Min(int.MaxValue, list.Sum(p => (long)p.EvidenceCount));

        // Profiles without evidence count equally among themselves, so merging fresh profiles still averages.
        double Weight(SessionProfile p) => evidence == 0 ? 1 : p.EvidenceCount;
        var total = list.Sum(Weight);
        double Mean(Func<LearnedPreferences, double> value) => list.Sum(p => Weight(p) * value(p.Preferences)) / total;

        var paced = list.Where(p => p.Preferences.SpeakingPace is not null).ToList();
        var paceSamples = (int)Math.Min(int.MaxValue, paced.Sum(p => (long)p.Preferences.SpeakingPaceSamples));
        double? pace = paced.Count == 0
            ? null
            : paced.Sum(p => p.Preferences.SpeakingPace!.Value * Math.Max(1, p.Preferences.SpeakingPaceSamples)) / paced.Sum(p => (double)Math.Max(1, p.Preferences.SpeakingPaceSamples));

        var overrides = new Dictionary<string, string>(PreferenceLearner.OverrideNames);
        foreach (var (name, value) in list.SelectMany(p => p.Overrides))
        {
            PreferenceLearner.SetOverride(overrides, name, value);
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
