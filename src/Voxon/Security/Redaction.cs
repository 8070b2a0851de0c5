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

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")]
    private static partial Regex Email();

    [GeneratedRegex(@"\b(?:\d[ -]?){12,18}\d\b")]
    private static partial Regex CardNumber();

    [GeneratedRegex(@"(?<![\w])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,3}(?![\w])")]
    private static partial Regex Phone();
}
