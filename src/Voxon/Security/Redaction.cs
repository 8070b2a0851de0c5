using System.Text.RegularExpressions;

namespace Voxon.Security;

/// <summary>Redaction of sensitive values and detection of common personal data (emails, phone and card numbers).</summary>
public static partial class Redaction
{
    /// <summary>What replaces a redacted value.</summary>
    public const string Marker = "[REDACTED]";

    /// <summary>Replaces emails, phone numbers and payment card numbers (Luhn-checked) with <see cref="Marker"/>.</summary>
    /// <returns>The redacted text and whether anything was found.</returns>
    public static (string Text, bool Found) RedactPii(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var found = false;
        var result = Email().Replace(text, _ => { found = true; return Marker; });
        result = CardNumber().Replace(result, m =>
        {
            if (!PassesLuhn(m.Value))
            {
                return m.Value;
            }

            found = true;
            return Marker;
        });
        result = Phone().Replace(result, m =>
        {
            // E.164 numbers have 7 to 15 digits; longer runs are card-like numbers that failed Luhn.
            if (m.Value.Count(char.IsAsciiDigit) is < 7 or > 15)
            {
                return m.Value;
            }

            found = true;
            return Marker;
        });
        return (result, found);
    }

    /// <summary>The values in a sensitive memory that carry its secret, so a paraphrase of it is redacted too: the text
    /// after a ':' or ' is ' (the value of "locker code: ZEBRA7731"), and every word with a digit or of four or more
    /// capitals or symbols-and-letters (codes, numbers, passwords). The whole text is included as well.</summary>
    public static IReadOnlyList<string> SensitiveValues(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var values = new List<string>();
        var text = content.Trim().TrimEnd('.');
        if (text.Length == 0)
        {
            return values;
        }

        values.Add(text);
        var colon = text.LastIndexOf(':');
        var isAt = text.LastIndexOf(" is ", StringComparison.OrdinalIgnoreCase);
        var cut = Math.Max(colon + 1, isAt < 0 ? 0 : isAt + 4);
        if (cut > 0 && text[cut..].Trim() is { Length: >= 3 } value)
        {
            values.Add(value);
        }

        values.AddRange(SecretWord().Matches(text).Select(m => m.Value));
        return [.. values.Distinct(StringComparer.OrdinalIgnoreCase).OrderByDescending(v => v.Length)];
    }

    /// <summary>Replaces every occurrence of <paramref name="values"/> (whole words, any case) with <see cref="Marker"/>.</summary>
    public static string RedactValues(string text, IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(values);
        foreach (var value in values)
        {
            text = Regex.Replace(text, $@"(?<![\w]){Regex.Escape(value)}(?![\w])", Marker, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }

        return text;
    }

    private static bool PassesLuhn(string candidate)
    {
        var digits = candidate.Where(char.IsAsciiDigit).Select(c => c - '0').ToArray();
        if (digits.Length is < 13 or > 19)
        {
            return false;
        }

        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i];
            if (i % 2 == 1)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
        }

        return sum % 10 == 0;
    }

    // A word with a digit, or of 4+ capitals, or mixing letters with symbols (p@ss-w0rd): what carries a secret.
    [GeneratedRegex(@"(?<![\w@#$%&*!?+=-])(?=[\w@#$%&*!?+=-]*(?:\d|[A-Z]{4}|[A-Za-z][@#$%&*!?+=][A-Za-z0-9]))[\w@#$%&*!?+=-]{3,}")]
    private static partial Regex SecretWord();

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")]
    private static partial Regex Email();

    [GeneratedRegex(@"\b(?:\d[ -]?){12,18}\d\b")]
    private static partial Regex CardNumber();

    [GeneratedRegex(@"(?<![\w])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,3}(?![\w])")]
    private static partial Regex Phone();
}
