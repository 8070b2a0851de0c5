using System.Globalization;
using System.Text.RegularExpressions;

namespace Voxon.Cli.Evaluation;

/// <summary>
/// Reads an evaluation set's free-text <c>session_date</c>: "1:56 pm on 8 May, 2023", "2023-05-08", "2023-05-08 14:05",
/// "May 8, 2023", "8 May 2023, 14:05", ISO 8601 with an offset. Times without an offset are taken as UTC.
/// </summary>
public static partial class SessionDates
{
    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">It is not a date in any of those forms.</exception>
    public static DateTimeOffset Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        // "1:56 pm on 8 May, 2023": the time comes first and is joined by "on"; .NET wants the date first.
        var normalized = TimeOnDate().Replace(text.Trim(), "${date} ${time}").Replace(",", " ", StringComparison.Ordinal);
        normalized = Spaces().Replace(normalized, " ").Trim();
        if (DateTimeOffset.TryParse(normalized, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var when))
        {
            return when;
        }

        throw new FormatException($"session_date '{text}' is not a date (expected forms like \"1:56 pm on 8 May, 2023\", \"2023-05-08\" or \"May 8, 2023\").");
    }

    [GeneratedRegex(@"^(?<time>\d{1,2}(?::\d{2})?\s*[ap]\.?m\.?)\s+on\s+(?<date>.+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TimeOnDate();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
