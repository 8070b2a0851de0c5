using Microsoft.ML.Tokenizers;

namespace Voxon.Memory;

/// <summary>Counts tokens with tiktoken's o200k_base, the encoding of current OpenAI models (data ships in a NuGet package).</summary>
/// <remarks>Counting is linear in the text's length: byte-pair merging is quadratic within one pre-token, so text is
/// counted in pieces of at most <see cref="MaxPiece"/> characters, cut before a whitespace character that follows a
/// non-space (a line break only after a letter or digit) where there is one (where the tokenizer splits anyway, so
/// counts are exact for ordinary text) and hard-cut only where a window has none (e.g. 40,000 repeated characters),
/// where the count may differ by a token per cut.</remarks>
public static class TokenCounter
{
    /// <summary>Longest piece handed to the tokenizer at once.</summary>
    internal const int MaxPiece = 256;

    private static readonly Lazy<Tokenizer> Tokenizer = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    /// <summary>Tokens in <paramref name="text"/>.</summary>
    public static int Count(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        var total = 0;
        foreach (var (start, length) in Pieces(text))
        {
            total += Tokenizer.Value.CountTokens(text.AsSpan(start, length));
        }

        return total;
    }

    /// <summary>The pieces <see cref="Count"/> hands to the tokenizer, each at most <see cref="MaxPiece"/> characters.</summary>
    internal static IEnumerable<(int Start, int Length)> Pieces(string text)
    {
        var start = 0;
        while (text.Length - start > MaxPiece)
        {
            // Cut before the last whitespace that follows a non-space in the window: the tokenizer's own boundary. But a
            // line break only after a letter or digit: the tokenizer joins punctuation to the line breaks that follow it
            // (".\n" is one piece).
            var end = start + MaxPiece;
            var cut = end;
            for (var i = end - 1; i > start; i--)
            {
                if (char.IsWhiteSpace(text[i]) && !char.IsWhiteSpace(text[i - 1]) && (text[i] is not ('\r' or '\n') || char.IsLetterOrDigit(text[i - 1])))
                {
                    cut = i;
                    break;
                }
            }

            if (cut == end && char.IsLowSurrogate(text[cut]))
            {
                cut--; // never split a surrogate pair
            }

            yield return (start, cut - start);
            start = cut;
        }

        yield return (start, text.Length - start);
    }
}
