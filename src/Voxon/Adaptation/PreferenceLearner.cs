using System.Globalization;
using Voxon.Analytics;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Adaptation;

/// <summary>
/// Learns how the user talks from each message, incrementally: every preference is a running mean kept as a
/// sum and a count (<see cref="LearnedPreferencesDocument"/>), so a turn costs O(message) and nothing re-reads history.
/// </summary>
/// <remarks>Not thread-safe: the owning session guards it with its lock.</remarks>
internal sealed class PreferenceLearner
{
    /// <summary>User messages needed before learned values are announced and shape the style guidance.</summary>
    public const int MinEvidence = 3;

    /// <summary>Most topics a profile carries.</summary>
    public const int MaxProfileTopics = 10;

    public const string SpeakingPace = "speaking_pace";
    public const string AvgMessageLength = "avg_message_length";
    public const string Formality = "formality_score";
    public const string TechnicalLevel = "technical_level";
    public const string Verbosity = "verbosity";

    /// <summary>A message of this many words is a full verbosity sample (1.0).</summary>
    private const double WordsForFullVerbosity = 40;

    private LearnedPreferencesDocument _state = new();

    /// <summary>Whether there is enough evidence to use the learned values.</summary>
    public bool Ready => _state.EvidenceCount >= MinEvidence;

    /// <summary>Topics of interest carried in from a profile.</summary>
    public IReadOnlyList<string> ProfileTopics => _state.ProfileTopics;

    /// <summary>Learns from one user message; returns the preferences that changed meaningfully.</summary>
    public List<PreferenceChange> Observe(TextFeatures features, double? audioSeconds)
    {
        var keep = Kept(_state.EvidenceCount);
        _state.EvidenceCount = Counted(_state.EvidenceCount);
        _state.WordsSum = (_state.WordsSum * keep) + features.WordCount;
        _state.FormalitySum = (_state.FormalitySum * keep) + features.Formality;
        _state.TechnicalSum = (_state.TechnicalSum * keep) + features.TechnicalLevel;
        AddVerbositySample(Math.Min(1, features.WordCount / WordsForFullVerbosity));
        if (audioSeconds is > 0 && features.WordCount > 0)
        {
            _state.PaceSum = (_state.PaceSum * Kept(_state.PaceSamples)) + (features.WordCount / audioSeconds.Value * 60);
            _state.PaceSamples = Counted(_state.PaceSamples);
        }

        return Changes();
    }

    /// <summary>An interrupted reply was too long: a zero verbosity sample.</summary>
    public List<PreferenceChange> ObserveInterruption()
    {
        AddVerbositySample(0);
        return Changes();
    }

    private void AddVerbositySample(double sample)
    {
        _state.VerbositySum = (_state.VerbositySum * Kept(_state.VerbositySamples)) + sample;
        _state.VerbositySamples = Counted(_state.VerbositySamples);
    }

    // A profile or an import can bring evidence up to int.MaxValue. A count stops there rather than wrapping negative
    // (which emptied the evidence and blew the means up); from then on a sample replaces one average sample.
    private static int Counted(int count) => count == int.MaxValue ? count : count + 1;

    private static double Kept(int count) => count == int.MaxValue ? 1 - (1.0 / int.MaxValue) : 1;

    /// <summary>The learned values, without overrides.</summary>
    public LearnedPreferences Learned()
    {
        var s = _state;
        var n = Math.Max(1, s.EvidenceCount);
        return new LearnedPreferences
        {
            SpeakingPace = s.PaceSamples == 0 ? null : Math.Round(s.PaceSum / s.PaceSamples, 1),
            SpeakingPaceSamples = s.PaceSamples,
            AvgMessageLength = Math.Round(s.WordsSum / n, 2),
            FormalityScore = s.EvidenceCount == 0 ? 0.5 : Math.Round(s.FormalitySum / n, 3),
            TechnicalLevel = Math.Round(s.TechnicalSum / n, 3),
            Verbosity = s.VerbositySamples == 0 ? 0.5 : Math.Round(s.VerbositySum / s.VerbositySamples, 3),
            EvidenceCount = s.EvidenceCount,
        };
    }

    /// <summary><paramref name="learned"/> with the overrides that name a preference applied (<c>formality</c> =
    /// <c>always_formal</c> reads 1.0); all overrides are listed in <see cref="LearnedPreferences.Overrides"/>.</summary>
    public static LearnedPreferences Effective(LearnedPreferences learned, IReadOnlyDictionary<string, string> overrides)
    {
        var effective = learned with { Overrides = new Dictionary<string, string>(overrides, StringComparer.Ordinal) };
        foreach (var (name, value) in overrides)
        {
            if (Canonical(name) is not { } key || ParseOverride(key, value) is not { } number)
            {
                continue;
            }

            effective = key switch
            {
                SpeakingPace => effective with { SpeakingPace = number },
                AvgMessageLength => effective with { AvgMessageLength = number },
                Formality => effective with { FormalityScore = number },
                TechnicalLevel => effective with { TechnicalLevel = number },
                _ => effective with { Verbosity = number },
            };
        }

        return effective;
    }

    /// <summary>The preference an override name stands for (<c>formality</c> is <c>formality_score</c>), or null.</summary>
    public static string? Canonical(string name) => name.Trim().ToLowerInvariant() switch
    {
        "formality" or Formality => Formality,
        "technical" or "technicality" or TechnicalLevel => TechnicalLevel,
        "verbosity" or "response_length" => Verbosity,
        "pace" or SpeakingPace => SpeakingPace,
        AvgMessageLength => AvgMessageLength,
        _ => null,
    };

    /// <summary>Compares override names as the preference they name: case-insensitively, and an alias (<c>formality</c>)
    /// as its preference (<c>formality_score</c>), so one preference never holds two overrides that contradict.</summary>
    public static readonly IEqualityComparer<string> OverrideNames = new OverrideNameComparer();

    /// <summary>Sets an override in a dictionary keyed by <see cref="OverrideNames"/>; one for the same preference under
    /// another spelling is replaced, and the name is kept as last given.</summary>
    public static void SetOverride(Dictionary<string, string> overrides, string name, string value)
    {
        overrides.Remove(name);
        overrides[name] = value;
    }

    /// <summary>A problem for each group of <paramref name="names"/> that name the same preference (import and profiles
    /// refuse them rather than pick one).</summary>
    public static IEnumerable<string> AmbiguousOverrides(IEnumerable<string> names) => names
        .GroupBy(n => n, OverrideNames)
        .Where(g => g.Skip(1).Any())
        .Select(g => $"overrides '{string.Join("' and '", g)}' name the same preference");

    /// <summary>What is wrong with a preference override (<see cref="Session.SetPreference"/>), or null; shared by the API
    /// and import.</summary>
    public static string? OverrideProblem(string name, string value) =>
        !Session.CategoryPattern().IsMatch(name) ? $"Preference name '{(name.Length > 64 ? name[..64] + "..." : name)}' may contain only letters, digits, '_', '-' and '.' (at most 64)."
        : value.Length > Session.MaxPreferenceValueLength ? $"Preference '{name}' may have a value of at most {Session.MaxPreferenceValueLength} characters; this has {value.Length}."
        : WellFormedText.Problem(value, $"The value of preference '{name}'");

    /// <summary>Starts from a profile: its values count as <see cref="SessionProfile.EvidenceCount"/> earlier messages.</summary>
    public void Seed(SessionProfile profile)
    {
        var p = profile.Preferences;
        var n = Math.Max(0, p.EvidenceCount);
        var paceSamples = p.SpeakingPace is null ? 0 : Math.Max(1, p.SpeakingPaceSamples);
        _state = new LearnedPreferencesDocument
        {
            EvidenceCount = n,
            WordsSum = p.AvgMessageLength * n,
            FormalitySum = p.FormalityScore * n,
            TechnicalSum = p.TechnicalLevel * n,
            VerbositySum = p.Verbosity * n,
            VerbositySamples = n,
            PaceSum = (p.SpeakingPace ?? 0) * paceSamples,
            PaceSamples = paceSamples,
            ProfileTopics = [.. profile.Topics.Take(MaxProfileTopics)],
        };

        // What the profile brings is already known: only later changes are announced.
        Changes();
    }

    /// <summary>A copy of the state for storage.</summary>
    public LearnedPreferencesDocument ToDocument() => _state.Clone();

    /// <summary>Continues from stored state.</summary>
    public void Restore(LearnedPreferencesDocument? document) => _state = document?.Clone() ?? new LearnedPreferencesDocument();

    /// <summary>Preferences that moved past their threshold since last announced; records them as announced.</summary>
    private List<PreferenceChange> Changes()
    {
        var changes = new List<PreferenceChange>();
        if (!Ready)
        {
            return changes;
        }

        var learned = Learned();
        void Check(string name, double? value, double threshold, bool relative = false)
        {
            if (value is not { } current)
            {
                return;
            }

            var known = _state.Announced.TryGetValue(name, out var previous);
            var delta = Math.Abs(current - previous);
            if (!known || delta >= (relative ? threshold * Math.Max(1, Math.Abs(previous)) : threshold))
            {
                _state.Announced[name] = current;
                changes.Add(new PreferenceChange(name, known ? previous : null, current, learned.EvidenceCount));
            }
        }

        Check(SpeakingPace, learned.SpeakingPace, 15);
        Check(AvgMessageLength, learned.AvgMessageLength, 0.25, relative: true);
        Check(Formality, learned.FormalityScore, 0.15);
        Check(TechnicalLevel, learned.TechnicalLevel, 0.15);
        Check(Verbosity, learned.Verbosity, 0.15);
        return changes;
    }

    private sealed class OverrideNameComparer : IEqualityComparer<string>
    {
        public bool Equals(string? x, string? y) =>
            x is null || y is null ? ReferenceEquals(x, y) : string.Equals(Key(x), Key(y), StringComparison.OrdinalIgnoreCase);

        public int GetHashCode(string obj) => StringComparer.OrdinalIgnoreCase.GetHashCode(Key(obj));

        private static string Key(string name) => Canonical(name) ?? name;
    }

    private static double? ParseOverride(string key, string value)
    {
        var text = value.Trim().ToLowerInvariant();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            return key is SpeakingPace or AvgMessageLength ? Math.Max(0, number) : Math.Clamp(number, 0, 1);
        }

        double? level = text switch
        {
            "always_formal" or "formal" or "expert" or "technical" or "advanced" or "detailed" or "verbose" or "long" or "high" or "fast" => 1,
            "neutral" or "intermediate" or "normal" or "balanced" or "medium" or "moderate" => 0.5,
            "always_casual" or "casual" or "informal" or "beginner" or "simple" or "basic" or "non_technical" or "concise" or "brief" or "short" or "terse" or "low" or "slow" => 0,
            _ => null,
        };
        return key switch
        {
            SpeakingPace => level is { } l ? 110 + (70 * l) : null,
            AvgMessageLength => null,
            _ => level,
        };
    }
}
