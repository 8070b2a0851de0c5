using System.Collections.Frozen;

namespace Voxon.Memory.Search;

/// <summary>
/// Turns memory text and queries into the terms the lexical index matches on: runs of Unicode letters
/// and digits, lower-cased (invariant), English stop words and single letters dropped, then reduced by
/// a small suffix stemmer so inflected forms meet ("prefers", "preferred", "preferences" all become "prefer").
/// </summary>
/// <remarks>
/// The stemmer is deliberately a handful of ordered rules rather than a full Porter stemmer: predictable,
/// allocation-light and good enough for short memory sentences. It stems only all-letter tokens; tokens with
/// digits ("3pm", "2024") are kept verbatim. Stateless and thread-safe.
/// </remarks>
internal static class SearchTokenizer
{
    // Longer runs (hashes, URLs without separators) are cut; matching on a 64-char prefix is plenty.
    internal const int MaxTokenLength = 64;

    private static readonly FrozenSet<string> StopWords = FrozenSet.Create(StringComparer.Ordinal,
    [
        "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "aren", "as", "at",
        "be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
        "can", "could", "couldn", "did", "didn", "do", "does", "doesn", "doing", "don", "down", "during",
        "each", "few", "for", "from", "further", "had", "hadn", "has", "hasn", "have", "haven", "having",
        "he", "her", "here", "hers", "herself", "him", "himself", "his", "how",
        "i", "if", "in", "into", "is", "isn", "it", "its", "itself", "just", "ll", "me", "more", "most", "my", "myself",
        "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out",
        "over", "own", "re", "same", "she", "should", "shouldn", "so", "some", "such",
        "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those",
        "through", "to", "too", "under", "until", "up", "ve", "very", "was", "wasn", "we", "were", "weren",
        "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "won", "would", "wouldn",
        "you", "your", "yours", "yourself", "yourselves",
    ]);

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> StopWordLookup =
        StopWords.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Returns the terms of <paramref name="text"/> in order, duplicates included.</summary>
    public static List<string> Tokenize(ReadOnlySpan<char> text)
    {
        var terms = new List<string>();
        foreach (var term in Terms(text, stackalloc char[MaxTokenLength]))
        {
            terms.Add(new string(term));
        }

        return terms;
    }

    /// <summary>The terms of <paramref name="text"/> in order, duplicates included, each in <paramref name="buffer"/>
    /// (at least <see cref="MaxTokenLength"/> chars) until the next one: for callers that look terms up without
    /// making a string of each.</summary>
    public static TermEnumerator Terms(ReadOnlySpan<char> text, Span<char> buffer) => new(text, buffer);

    /// <summary>Enumerates <see cref="Terms"/>.</summary>
    public ref struct TermEnumerator(ReadOnlySpan<char> text, Span<char> buffer)
    {
        private readonly ReadOnlySpan<char> _text = text;
        private readonly Span<char> _buffer = buffer.Length >= MaxTokenLength ? buffer : throw new ArgumentException("The buffer is too short for a term.", nameof(buffer));
        private int _next;

        /// <summary>The current term (valid until the next <see cref="MoveNext"/>).</summary>
        public ReadOnlySpan<char> Current { get; private set; }

        public readonly TermEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            var text = _text;
            var i = _next;
            while (i < text.Length)
            {
                if (!char.IsLetterOrDigit(text[i]))
                {
                    i++;
                    continue;
                }

                var start = i;
                while (i < text.Length && char.IsLetterOrDigit(text[i]))
                {
                    i++;
                }

                var word = text[start..Math.Min(i, start + MaxTokenLength)];
                var lower = _buffer[..word.Length];
                word.ToLowerInvariant(lower);
                if ((lower.Length == 1 && char.IsLetter(lower[0])) || StopWordLookup.Contains(lower))
                {
                    continue;
                }

                _next = i;
                Current = Stem(lower);
                return true;
            }

            _next = i;
            return false;
        }
    }

    /// <summary>Stems a lower-case word in place and returns the stem (a prefix of <paramref name="word"/>, possibly with its last letter changed).</summary>
    internal static Span<char> Stem(Span<char> word)
    {
        if (word.Length < 3 || !IsAllLetters(word))
        {
            return word;
        }

        // 1. Plurals: "glasses" -> "glass", "cities" -> "citi", "prefers" -> "prefer"; not "bus", "analysis", "class".
        if (word.EndsWith("sses"))
        {
            word = word[..^2];
        }
        else if (word.EndsWith("ies") && word.Length > 4)
        {
            word = word[..^2];
        }
        else if (word.Length > 3 && word[^1] == 's' && word[^2] is not ('s' or 'u' or 'i'))
        {
            word = word[..^1];
        }

        // 2. Past tense and gerund: "studied" -> "studi", "preferred" -> "prefer", "hiking" -> "hik"; not "need", "sing".
        if (word.EndsWith("ied") && word.Length > 4)
        {
            word = word[..^2];
        }
        else if (word.EndsWith("ed") && !word.EndsWith("eed") && IsStem(word[..^2]))
        {
            word = Undouble(word[..^2]);
        }
        else if (word.EndsWith("ing") && IsStem(word[..^3]))
        {
            word = Undouble(word[..^3]);
        }

        // 3. A few derivational endings: "preference" -> "prefer", "appointment" -> "appoint".
        foreach (var suffix in (ReadOnlySpan<string>)["ence", "ance", "ment"])
        {
            if (word.EndsWith(suffix) && word.Length - suffix.Length >= 4)
            {
                word = word[..^suffix.Length];
                break;
            }
        }

        // 4. Final e and y, so "hike"/"hikes"/"hiked"/"hiking" and "day"/"days", "movie"/"movies" meet.
        if (word.Length > 3 && word[^1] == 'e')
        {
            word = word[..^1];
        }

        if (word[^1] == 'y' && HasVowel(word[..^1]))
        {
            word[^1] = 'i';
        }

        return word;
    }

    private static bool IsStem(ReadOnlySpan<char> stem) => stem.Length >= 3 && HasVowel(stem);

    private static Span<char> Undouble(Span<char> stem) =>
        stem.Length >= 2 && stem[^1] == stem[^2] && stem[^1] is not ('l' or 's' or 'z') && !IsVowel(stem[^1])
            ? stem[..^1]
            : stem;

    private static bool HasVowel(ReadOnlySpan<char> s) => s.IndexOfAny("aeiouy") >= 0;

    private static bool IsVowel(char c) => "aeiou".Contains(c, StringComparison.Ordinal);

    private static bool IsAllLetters(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsLetter(c))
            {
                return false;
            }
        }

        return true;
    }
}
