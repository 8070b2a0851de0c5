using System.Runtime.InteropServices;

namespace Voxon.Analytics;

/// <summary>What one user message says about topics, mood and style, computed in a single pass over its words.
/// Deterministic and allocation-light so it can run on every turn (see the "analytics" benchmark harness).</summary>
/// <param name="WordCount">Words in the message.</param>
/// <param name="Formality">0 (casual) .. 1 (formal); 0.5 when there is no marker either way.</param>
/// <param name="TechnicalLevel">0 (plain language) .. 1 (dense domain vocabulary).</param>
/// <param name="Sentiment">-1 (displeased) .. 1 (pleased); null when no sentiment word was found.</param>
/// <param name="Phrases">Candidate topic phrases: runs of content words cut at stop words and punctuation, as 1- to 3-grams.</param>
internal sealed record TextFeatures(int WordCount, double Formality, double TechnicalLevel, double? Sentiment, IReadOnlyList<string> Phrases)
{
    /// <summary>Longest topic phrase, in words.</summary>
    public const int MaxPhraseWords = 3;

    /// <summary>Most phrases taken from one message, so a pasted essay cannot flood the topic counts.</summary>
    public const int MaxPhrasesPerMessage = 48;

    /// <summary>Words after a negator whose sentiment it flips ("not very helpful").</summary>
    private const int NegationWindow = 3;

    /// <summary>Analyses <paramref name="text"/>.</summary>
    public static TextFeatures Analyze(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        // A redaction marker stands for a hidden value, not a word the user said: it ends a phrase and is no topic.
        text = text.Replace(Security.Redaction.Marker, " , ", StringComparison.Ordinal);
        var words = 0;
        double formal = 0, informal = 0, technical = 0;
        int positive = 0, negative = 0, negateLeft = 0;
        var phrases = new List<string>();
        var run = new List<string>(8);

        void FlushRun()
        {
            for (var n = 1; n <= MaxPhraseWords; n++)
            {
                for (var start = 0; start + n <= run.Count && phrases.Count < MaxPhrasesPerMessage; start++)
                {
                    phrases.Add(n == 1 ? run[start] : string.Join(' ', CollectionsMarshal.AsSpan(run).Slice(start, n)));
                }
            }

            run.Clear();
        }

        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (!IsWordChar(c))
            {
                if (!char.IsWhiteSpace(c))
                {
                    FlushRun();
                }

                i++;
                continue;
            }

            var start = i;
            while (i < text.Length && IsWordChar(text[i]))
            {
                i++;
            }

            var raw = text.AsSpan(start, i - start).Trim('\'');
            if (raw.IsEmpty)
            {
                continue;
            }

            words++;
            var word = raw.ToString().ToLowerInvariant().Replace('’', '\'');
            if (word.EndsWith("'s", StringComparison.Ordinal) && !Contractions.Contains(word))
            {
                word = word[..^2]; // possessive: "the algorithm's cost" is about the algorithm
            }

            var isAcronym = raw.Length is >= 2 and <= 5 && IsAllUpper(raw);

            if (Lexicon.Formal.Contains(word))
            {
                formal++;
            }
            else if (Lexicon.Informal.Contains(word))
            {
                informal++;
            }
            else if (word.Contains('\''))
            {
                informal += 0.5; // contractions lean casual
            }

            if (Lexicon.Technical.Contains(word))
            {
                technical += 1;
            }
            else if (word.Length >= 11 || isAcronym)
            {
                technical += 0.4;
            }

            if (Lexicon.Negators.Contains(word) || word.EndsWith("n't", StringComparison.Ordinal))
            {
                negateLeft = NegationWindow;
                FlushRun();
                continue;
            }

            var polarity = Lexicon.Positive.Contains(word) ? 1 : Lexicon.Negative.Contains(word) ? -1 : 0;
            if (polarity != 0 && negateLeft > 0)
            {
                polarity = -polarity;
            }

            if (polarity > 0)
            {
                positive++;
            }
            else if (polarity < 0)
            {
                negative++;
            }

            negateLeft = Math.Max(0, negateLeft - 1);
            if (Lexicon.IsContentWord(word) || isAcronym)
            {
                run.Add(word);
            }
            else
            {
                FlushRun();
            }
        }

        FlushRun();
        var trimmed = text.AsSpan().Trim();
        if (trimmed.Length > 0)
        {
            // Sentence case and closing punctuation read formal; all lower case and "!!" read casual.
            if (char.IsLower(trimmed[0]))
            {
                informal += 1;
            }
            else if (char.IsUpper(trimmed[0]) && trimmed[^1] is '.' or '?')
            {
                formal += 0.5;
            }

            if (trimmed.Contains("!!", StringComparison.Ordinal))
            {
                informal += 1;
            }
        }

        var formality = (formal + 1) / (formal + informal + 2);
        var density = words == 0 ? 0 : technical / words;
        var technicalLevel = 1 - Math.Exp(-3 * density);
        double? sentiment = positive + negative == 0 ? null : (double)(positive - negative) / (positive + negative);
        return new TextFeatures(words, formality, technicalLevel, sentiment, phrases);
    }

    /// <summary>Words ending in 's that are contractions ("it is"), not possessives.</summary>
    private static readonly HashSet<string> Contractions = new(StringComparer.Ordinal) { "it's", "that's", "what's", "there's", "here's", "he's", "she's", "who's", "let's", "where's", "how's" };

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c is '\'' or '’';

    private static bool IsAllUpper(ReadOnlySpan<char> word)
    {
        foreach (var c in word)
        {
            if (!char.IsUpper(c))
            {
                return false;
            }
        }

        return true;
    }
}
