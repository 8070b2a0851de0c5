using System.Globalization;

namespace Voxon.Adaptation;

/// <summary>Turns preferences into the style guidance ContextWeaver gives the engine: overrides verbatim
/// (<c>formality: always_formal</c>), then a sentence per learned preference that is clearly to one side.</summary>
internal static class StyleGuide
{
    /// <summary>The guidance, or null when there is nothing to say.</summary>
    /// <param name="effective">Effective preferences (overrides applied).</param>
    /// <param name="overrides">The overrides, rendered as given.</param>
    /// <param name="learnedReady">Whether there is enough evidence to use learned values.</param>
    public static string? Render(LearnedPreferences effective, IReadOnlyDictionary<string, string> overrides, bool learnedReady)
    {
        var parts = overrides
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Key}: {p.Value}")
            .ToList();
        if (learnedReady)
        {
            var overridden = overrides.Keys.Select(PreferenceLearner.Canonical).OfType<string>().ToHashSet(StringComparer.Ordinal);
            void Add(string name, string? sentence)
            {
                if (sentence is not null && !overridden.Contains(name))
                {
                    parts.Add(sentence);
                }
            }

            Add(PreferenceLearner.Formality, effective.FormalityScore switch
            {
                >= 0.62 => "Use a formal, courteous register",
                <= 0.38 => "Keep the tone casual and friendly",
                _ => null,
            });
            Add(PreferenceLearner.TechnicalLevel, effective.TechnicalLevel switch
            {
                >= 0.4 => "The user is technically fluent: use precise terminology and skip the basics",
                <= 0.15 => "Explain simply and avoid jargon; define any technical term you need",
                _ => null,
            });
            Add(PreferenceLearner.Verbosity, effective.Verbosity switch
            {
                >= 0.6 => "Detailed answers are welcome",
                <= 0.25 => "Keep answers short",
                _ => null,
            });
            Add(PreferenceLearner.SpeakingPace, effective.SpeakingPace switch
            {
                >= 170 => string.Create(CultureInfo.InvariantCulture, $"The user speaks fast (~{effective.SpeakingPace:F0} words/min): keep a brisk pace"),
                <= 110 => string.Create(CultureInfo.InvariantCulture, $"The user speaks slowly (~{effective.SpeakingPace:F0} words/min): use short sentences and a calm pace"),
                _ => null,
            });
        }

        return parts.Count == 0 ? null : string.Join("; ", parts);
    }
}
