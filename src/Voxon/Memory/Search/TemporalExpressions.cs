using System.Globalization;
using System.Text.RegularExpressions;

namespace Voxon.Memory.Search;

/// <summary>A span of days a text refers to, with the words to index for it ("7 May 2023").</summary>
/// <param name="Start">The first day.</param>
/// <param name="End">The last day (equal to <paramref name="Start"/> for one day).</param>
/// <param name="Label">The span in words, in English: a day, "week of ...", a month or a year.</param>
internal readonly record struct DateSpan(DateOnly Start, DateOnly End, string Label)
{
    public bool Overlaps(DateOnly start, DateOnly end) => Start <= end && start <= End;
}

/// <summary>
/// Resolves relative time expressions in English ("yesterday", "last week", "two days ago", "next month",
/// "last Friday") against the moment a memory happened, so the date can be indexed and matched by
/// "when" questions. Vague ones ("the other day", "recently") are left alone rather than guessed.
/// </summary>
internal static partial class TemporalExpressions
{
    private static readonly CultureInfo English = CultureInfo.InvariantCulture;

    private static readonly Dictionary<string, int> Numbers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["a"] = 1, ["an"] = 1, ["one"] = 1, ["two"] = 2, ["three"] = 3, ["four"] = 4, ["five"] = 5, ["six"] = 6,
        ["seven"] = 7, ["eight"] = 8, ["nine"] = 9, ["ten"] = 10, ["a couple of"] = 2, ["a few"] = 3, ["couple of"] = 2, ["few"] = 3,
    };

    /// <summary>The spans of days that the relative expressions in <paramref name="text"/> refer to, in order of appearance.</summary>
    public static List<DateSpan> Resolve(string text, DateTimeOffset occurredAt)
    {
        var spans = new List<DateSpan>();
        if (!TimeWord().IsMatch(text))
        {
            return spans;
        }

        var day = DateOnly.FromDateTime(occurredAt.DateTime);
        foreach (Match match in Expression().Matches(text))
        {
            try
            {
                if (Interpret(match, day) is { } span)
                {
                    spans.Add(span);
                }
            }
            catch (ArgumentOutOfRangeException)
            {
                // Resolved past year 1 or 9999 (a memory dated at the edge of the calendar): no date rather than a failed load.
            }
        }

        return spans;
    }

    private static DateSpan? Interpret(Match match, DateOnly day)
    {
        var g = match.Groups;
        if (g["today"].Success)
        {
            return Day(day);
        }

        if (g["yesterday"].Success)
        {
            return Day(day.AddDays(g["before"].Success ? -2 : -1));
        }

        if (g["tomorrow"].Success)
        {
            return Day(day.AddDays(g["after"].Success ? 2 : 1));
        }

        if (g["count"].Success)
        {
            if (!g["ago"].Success && !g["in"].Success && !g["from"].Success)
            {
                return null; // "for two days" says how long, not when
            }

            var n = int.TryParse(g["count"].Value, NumberStyles.None, English, out var digits) ? digits : Numbers[Regex.Replace(g["count"].Value, @"\s+", " ")];
            var sign = g["ago"].Success ? -1 : 1;
            return g["unit"].Value.ToLowerInvariant() switch
            {
                var u when u.StartsWith("day", StringComparison.Ordinal) => Day(day.AddDays(sign * n)),
                var u when u.StartsWith("week", StringComparison.Ordinal) => Week(day.AddDays(sign * 7 * n)),
                var u when u.StartsWith("month", StringComparison.Ordinal) => Month(day.AddMonths(sign * n)),
                _ => Year(day.Year + (sign * n)),
            };
        }

        var direction = g["dir"].Value.ToLowerInvariant() switch { "last" or "past" or "previous" => -1, "next" or "coming" => 1, _ => 0 };
        if (g["period"].Success)
        {
            return g["period"].Value.ToLowerInvariant() switch
            {
                "week" => Week(day.AddDays(7 * direction)),
                "weekend" => Weekend(day, direction),
                "month" => Month(day.AddMonths(direction)),
                _ => Year(day.Year + direction),
            };
        }

        if (g["weekday"].Success && Enum.TryParse<DayOfWeek>(g["weekday"].Value, ignoreCase: true, out var weekday))
        {
            // "last Friday" / "on Friday" said on a Saturday mean the day before; "next Friday" the coming one.
            var offset = ((int)weekday - (int)day.DayOfWeek + 7) % 7;
            return Day(direction > 0 ? day.AddDays(offset == 0 ? 7 : offset) : day.AddDays(offset == 0 ? -7 : offset - 7));
        }

        return null;
    }

    private static DateSpan Day(DateOnly d) => new(d, d, d.ToString("d MMMM yyyy", English));

    private static DateSpan Week(DateOnly d)
    {
        var monday = d.AddDays(-(((int)d.DayOfWeek + 6) % 7));
        return new(monday, monday.AddDays(6), "week of " + monday.ToString("d MMMM yyyy", English));
    }

    private static DateSpan Weekend(DateOnly d, int direction)
    {
        var saturday = d.AddDays(((int)DayOfWeek.Saturday - (int)d.DayOfWeek + 7) % 7);
        if (direction < 0)
        {
            saturday = saturday.AddDays(-7);
        }

        return new(saturday, saturday.AddDays(1), "weekend of " + saturday.ToString("d MMMM yyyy", English));
    }

    private static DateSpan Month(DateOnly d)
    {
        var first = new DateOnly(d.Year, d.Month, 1);
        return new(first, first.AddMonths(1).AddDays(-1), first.ToString("MMMM yyyy", English));
    }

    private static DateSpan Year(int year) =>
        new(new DateOnly(year, 1, 1), new DateOnly(year, 12, 31), year.ToString(English));

    // Every expression below names a day (weekdays included), a part of one, a week, a month or a year. Most texts name
    // none (two in three of the dialogue memories in bench/eval-sets), which this finds in one vectorized search; the
    // expression, which can start with most letters, tries a match at nearly every word: 16% of the CPU of building the
    // search index of 10,000 memories that name none.
    [GeneratedRegex("day|night|morning|afternoon|evening|tomorrow|week|month|year", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TimeWord();

    [GeneratedRegex("""
        \b(?:
            (?<today>today|this\s+(?:morning|afternoon|evening)|tonight)
          | (?<before>the\s+day\s+before\s+)?(?<yesterday>yesterday|last\s+night)
          | (?<after>the\s+day\s+after\s+)?(?<tomorrow>tomorrow)
          | (?<in>in\s+)?(?<count>\d{1,2}|an?|one|two|three|four|five|six|seven|eight|nine|ten|(?:a\s+)?couple\s+of|(?:a\s+)?few)\s+(?<unit>days?|weeks?|months?|years?)(?:\s+(?<ago>ago|back)|\s+(?<from>from\s+now))?
          | (?<dir>last|past|previous|next|coming|this)\s+(?<period>week|weekend|month|year)\b
          | (?:(?<dir>last|next|this|on)\s+)(?<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)
        )\b
        """, RegexOptions.IgnoreCase | RegexOptions.IgnorePatternWhitespace | RegexOptions.CultureInvariant)]
    private static partial Regex Expression();
}
