using System.Globalization;
using System.Text.RegularExpressions;

namespace Voxon.Memory.Search;

/// <summary>
/// What a query asks about time: whether it asks "when" (so memories carrying a date rank higher), and the span
/// of days it is about ("in May 2023", "last year"), if any. A month without a year ("in May") matches that month in any year.
/// </summary>
internal sealed partial record TimeFocus(bool AsksWhen, DateOnly? Start, DateOnly? End, int? AnyYearMonth)
{
    private static readonly string[] MonthNames = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames;

    /// <summary>Whether a memory whose events span <paramref name="start"/>..<paramref name="end"/> falls in the asked span.</summary>
    public bool InSpan(DateOnly start, DateOnly end)
    {
        if (AnyYearMonth is { } month)
        {
            // A span of more than a year covers every month; otherwise check the months it touches.
            if (end.DayNumber - start.DayNumber >= 365)
            {
                return true;
            }

            for (var d = new DateOnly(start.Year, start.Month, 1); d <= end; d = d.AddMonths(1))
            {
                if (d.Month == month)
                {
                    return true;
                }
            }

            return false;
        }

        return Start is { } s && End is { } e && start <= e && s <= end;
    }

    /// <summary>Whether the query asks about a span of days.</summary>
    public bool HasSpan => AnyYearMonth is not null || Start is not null;

    /// <summary>The time focus of <paramref name="query"/>, or null when it says nothing about time.</summary>
    /// <param name="query">The search text.</param>
    /// <param name="now">The moment of asking, for "last year" and the like.</param>
    public static TimeFocus? Parse(string query, DateTimeOffset now)
    {
        var asksWhen = WhenQuestion().IsMatch(query);
        DateOnly? start = null, end = null;
        int? anyYearMonth = null;
        if (MonthYear().Match(query) is { Success: true } m)
        {
            var month = Array.FindIndex(MonthNames, n => n.Length > 0 && n.StartsWith(m.Groups["month"].Value, StringComparison.OrdinalIgnoreCase)) + 1;
            if (m.Groups["year"].Success)
            {
                var year = int.Parse(m.Groups["year"].Value, CultureInfo.InvariantCulture);
                start = new DateOnly(year, month, 1);
                end = start.Value.AddMonths(1).AddDays(-1);
            }
            else
            {
                anyYearMonth = month;
            }
        }
        else if (InYear().Match(query) is { Success: true } y)
        {
            var year = int.Parse(y.Groups["year"].Value, CultureInfo.InvariantCulture);
            start = new DateOnly(year, 1, 1);
            end = new DateOnly(year, 12, 31);
        }
        else if (TemporalExpressions.Resolve(query, now) is [var span, ..])
        {
            start = span.Start;
            end = span.End;
        }

        return asksWhen || start is not null || anyYearMonth is not null ? new TimeFocus(asksWhen, start, end, anyYearMonth) : null;
    }

    [GeneratedRegex(@"\b(?:when|what\s+(?:date|day|time|year|month)|which\s+(?:date|day|year|month)|how\s+long\s+ago)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex WhenQuestion();

    [GeneratedRegex(@"\b(?:in|during|of|since|around|early|late|mid)\s+(?<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b(?:,?\s+(?<year>(?:19|20)\d\d)\b)?", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex MonthYear();

    [GeneratedRegex(@"\b(?:in|during|of)\s+(?<year>(?:19|20)\d\d)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex InYear();
}
