using System.Text.RegularExpressions;
using Voxon.Sessions;

namespace Voxon.Memory;

/// <summary>
/// The offline extractor: deterministic patterns for the facts people state about themselves
/// (name, age, interests, where they live and work, preferences, explicit "remember that").
/// Facts are phrased in third person so they read well in any context and can be turned back to
/// second person by the offline engine.
/// </summary>
public static partial class MemoryExtractor
{
    private const int MaxValueLength = 120;

    private static readonly HashSet<string> NotNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "a", "an", "the", "not", "so", "very", "really", "just", "here", "there", "fine", "good", "ok", "okay", "sure",
        "sorry", "interested", "from", "going", "looking", "trying", "feeling", "tired", "happy", "sad", "back", "done",
    };

    private static readonly (Regex Pattern, Func<string, ExtractedFact?> Make)[] Rules =
    [
        (NameRule(), v => IsName(v) ? new ExtractedFact($"User's name is {v}", "identity", 0.9, "identity.name") : null),
        (IntroductionRule(), v => IsName(v) ? new ExtractedFact($"User's name is {v}", "identity", 0.9, "identity.name") : null),
        (AgeRule(), v => new ExtractedFact($"User is {v} years old", "identity", 0.7, "identity.age")),
        (InterestRule(), v => new ExtractedFact($"User is interested in {v}", "interest", 0.7, null)),
        (LikeRule(), v => new ExtractedFact($"User likes {v}", "interest", 0.6, null)),
        (DislikeRule(), v => new ExtractedFact($"User dislikes {v}", "preference", 0.6, null)),
        (PreferRule(), v => new ExtractedFact($"User prefers {v}", "preference", 0.6, null)),
        (LiveRule(), v => new ExtractedFact($"User lives in {v}", "location", 0.7, "location.home")),
        (FromRule(), v => new ExtractedFact($"User is from {v}", "location", 0.6, "location.origin")),
        (WorkAtRule(), v => new ExtractedFact($"User works at {v}", "work", 0.7, "work.employer")),
        (WorkAsRule(), v => new ExtractedFact($"User works as {v}", "work", 0.7, "work.role")),
        (RememberRule(), v => new ExtractedFact($"User asked to remember: {v}", "note", 0.8, null)),
        (MoodRule(), v => new ExtractedFact($"User feels {v}", "mood", 0.3, "mood.current")),
    ];

    /// <summary>Finds the facts stated in <paramref name="text"/>, at most one per slot (the last statement wins).</summary>
    public static IReadOnlyList<ExtractedFact> Extract(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var facts = new List<ExtractedFact>();
        foreach (var clause in Clauses().Split(text))
        {
            if (IsQuestion(clause))
            {
                continue;
            }

            foreach (var (pattern, make) in Rules)
            {
                var match = pattern.Match(clause);
                if (!match.Success)
                {
                    continue;
                }

                var value = Clean(match.Groups["v"].Value);
                if (value.Length == 0 || make(value) is not { } fact)
                {
                    continue;
                }

                facts.RemoveAll(f => (f.Slot is not null && f.Slot == fact.Slot) || f.Content == fact.Content);
                facts.Add(fact);
                break;
            }
        }

        return facts;
    }

    /// <summary>Whether <paramref name="text"/> reads as a question rather than a statement.</summary>
    public static bool IsQuestion(string text)
    {
        var trimmed = text.Trim();
        return trimmed.EndsWith('?') || QuestionStart().IsMatch(trimmed);
    }

    private static bool IsName(string value)
    {
        var first = value.Split(' ')[0];
        return char.IsUpper(first[0]) && !NotNames.Contains(first) && value.Split(' ').Length <= 3;
    }

    private static string Clean(string value)
    {
        var cleaned = Trailing().Replace(value.Trim(), string.Empty).Trim().TrimEnd('.', ',', '!', ';', ':', '"', '\'');
        return WellFormedText.Cut(cleaned, MaxValueLength).TrimEnd(); // never half of an emoji: storage could not hold it
    }

    [GeneratedRegex(@"(?<=[.!?;])\s+|,?\s+(?:and|but|also)\s+(?=(?:i|i'm|i've|my|call)\b)|,\s+(?=(?:i|i'm|my)\b)", RegexOptions.IgnoreCase)]
    private static partial Regex Clauses();

    [GeneratedRegex(@"^(?:what|who|where|when|why|how|which|do|does|did|can|could|would|will|is|are|am)\b", RegexOptions.IgnoreCase)]
    private static partial Regex QuestionStart();

    [GeneratedRegex(@"\s+(?:too|as well|now|though|anyway|please)$", RegexOptions.IgnoreCase)]
    private static partial Regex Trailing();

    [GeneratedRegex(@"\b(?:my name(?:'s| is)|call me|i am called|i'm called|you can call me)\s+(?<v>\p{L}[\p{L}'-]*(?:\s+\p{Lu}[\p{L}'-]*){0,2})", RegexOptions.IgnoreCase)]
    private static partial Regex NameRule();

    // Only the lead-in ignores case: the name itself must be capitalised ("I'm tired" is not a name).
    [GeneratedRegex(@"^(?i:hi|hello|hey)?[,!]?\s*(?i:i'm|i am|this is)\s+(?<v>\p{Lu}[\p{L}'-]*(?:\s+\p{Lu}[\p{L}'-]*)?)\s*[.!]?$")]
    private static partial Regex IntroductionRule();

    [GeneratedRegex(@"\b(?:i'm|i am)\s+(?<v>\d{1,3})\s+years?\s+old\b", RegexOptions.IgnoreCase)]
    private static partial Regex AgeRule();

    [GeneratedRegex(@"\b(?:i'm|i am|i've been|i have been)\s+(?:really\s+|very\s+|also\s+|quite\s+|so\s+)?(?:interested in|into|passionate about|curious about|fascinated by|fond of)\s+(?<v>[^.,;!?]+)", RegexOptions.IgnoreCase)]
    private static partial Regex InterestRule();

    [GeneratedRegex(@"\bi\s+(?:really\s+|also\s+)?(?:love|like|enjoy)\s+(?<v>[^.,;!?]+)", RegexOptions.IgnoreCase)]
    private static partial Regex LikeRule();

    [GeneratedRegex(@"\bi\s+(?:don't|do not|really don't)\s+(?:like|enjoy)\s+(?<v>[^.,;!?]+)|\bi\s+(?:hate|dislike|can't stand)\s+(?<v>[^.,;!?]+)", RegexOptions.IgnoreCase)]
    private static partial Regex DislikeRule();

    [GeneratedRegex(@"\bi\s+(?:prefer|would rather|'d rather)\s+(?<v>[^.;!?]+)", RegexOptions.IgnoreCase)]
    private static partial Regex PreferRule();

    [GeneratedRegex(@"\b(?:i|we)\s+(?:live|am living|'m living|have moved|moved)\s+(?:in|to)\s+(?<v>[^.,;!?]+)", RegexOptions.IgnoreCase)]
    private static partial Regex LiveRule();

    [GeneratedRegex(@"\b(?:i'm|i am|i come)\s+(?:originally\s+)?from\s+(?<v>[^.,;!?]+)", RegexOptions.IgnoreCase)]
    private static partial Regex FromRule();

    [GeneratedRegex(@"\bi\s+(?:work|am working|'m working)\s+(?:at|for)\s+(?<v>[^.,;!?]+)", RegexOptions.IgnoreCase)]
    private static partial Regex WorkAtRule();

    [GeneratedRegex(@"\bi\s+(?:work|am working|'m working)\s+as\s+(?<v>an?\s+[^.,;!?]+)", RegexOptions.IgnoreCase)]
    private static partial Regex WorkAsRule();

    [GeneratedRegex(@"\b(?:please\s+)?remember\s+(?:that\s+)?(?<v>[^.;!?]{3,})", RegexOptions.IgnoreCase)]
    private static partial Regex RememberRule();

    [GeneratedRegex(@"\b(?:i'm|i am|i feel)\s+(?:feeling\s+)?(?:so\s+|really\s+|a bit\s+|very\s+)?(?<v>tired|sad|happy|stressed|excited|bored|anxious|nervous|great|exhausted)\b", RegexOptions.IgnoreCase)]
    private static partial Regex MoodRule();
}
