using System.Runtime.CompilerServices;
using System.Text;

namespace Voxon.Turns;

/// <summary>
/// Cuts streamed reply text into clauses for text-to-speech: each complete sentence (or, past
/// <see cref="MinClauseWords"/> words, each clause ending in a comma, semicolon, colon or dash) comes out as soon
/// as it ends, so speech can start before the reply is finished. Not thread-safe: one instance per reply.
/// </summary>
public sealed class SentenceChunker
{
    /// <summary>Words a clause needs before a comma, semicolon, colon or dash ends it. Shorter ones wait for more, so
    /// speech is not chopped into fragments. Default 6.</summary>
    public int MinClauseWords { get; init; } = 6;

    private static readonly HashSet<string> Abbreviations = new(StringComparer.OrdinalIgnoreCase)
    {
        "mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "jr", "sr", "no", "approx",
    };

    private readonly StringBuilder _pending = new();

    /// <summary>Adds streamed text; returns the clauses it completed, in order (often none).</summary>
    public IReadOnlyList<string> Push(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _pending.Append(text);
        List<string>? clauses = null;
        while (NextBoundary() is { } end)
        {
            var clause = _pending.ToString(0, end).Trim();
            _pending.Remove(0, end);
            if (clause.Length > 0)
            {
                (clauses ??= []).Add(clause);
            }
        }

        return clauses ?? (IReadOnlyList<string>)[];
    }

    /// <summary>The text left at the end of the reply (null when none), and resets the chunker.</summary>
    public string? Flush()
    {
        var rest = _pending.ToString().Trim();
        _pending.Clear();
        return rest.Length == 0 ? null : rest;
    }

    /// <summary>Splits a stream of text chunks into clauses as they complete; the remainder comes last.</summary>
    public static async IAsyncEnumerable<string> ChunkAsync(IAsyncEnumerable<string> chunks, int minClauseWords = 6, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var chunker = new SentenceChunker { MinClauseWords = minClauseWords };
        await foreach (var chunk in chunks.WithCancellation(cancellationToken))
        {
            foreach (var clause in chunker.Push(chunk))
            {
                yield return clause;
            }
        }

        if (chunker.Flush() is { } rest)
        {
            yield return rest;
        }
    }

    /// <summary>The end (exclusive) of the first complete clause in the pending text, or null. A terminator counts only
    /// once the whitespace after it has arrived, so "3.14" and "e.g." are not cut in the middle.</summary>
    private int? NextBoundary()
    {
        var words = 0;
        var inWord = false;
        for (var i = 0; i < _pending.Length; i++)
        {
            var c = _pending[i];
            if (char.IsWhiteSpace(c))
            {
                if (c == '\n' && i > 0 && _pending[i - 1] == '\n')
                {
                    return i + 1; // a paragraph break ends whatever came before
                }

                inWord = false;
                continue;
            }

            if (!inWord)
            {
                words++;
                inWord = true;
            }

            if (i + 1 >= _pending.Length || !char.IsWhiteSpace(_pending[i + 1]))
            {
                continue;
            }

            var sentenceEnd = c is '.' or '!' or '?' or '…' && !IsAbbreviation(i);
            var clauseEnd = c is ',' or ';' or ':' or '—' && words >= MinClauseWords;
            if (sentenceEnd || clauseEnd)
            {
                return i + 1;
            }
        }

        return null;
    }

    /// <summary>Whether the period at <paramref name="dot"/> ends a known abbreviation or a single initial ("J.").</summary>
    private bool IsAbbreviation(int dot)
    {
        if (_pending[dot] != '.')
        {
            return false;
        }

        var start = dot;
        while (start > 0 && !char.IsWhiteSpace(_pending[start - 1]))
        {
            start--;
        }

        var word = _pending.ToString(start, dot - start).TrimStart('(', '"', '\'');
        return Abbreviations.Contains(word) || (word.Length == 1 && char.IsUpper(word[0]));
    }
}
