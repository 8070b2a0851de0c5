using Voxon.Storage;

namespace Voxon.Analytics;

/// <summary>
/// The running analytics of a session that cannot be read off the transcripts cheaply: topic phrase counts,
/// user messages per hour, sentiment totals, custom metrics and the milestones already fired. Updated
/// incrementally per user message (no re-scan of history) and persisted in <see cref="SessionAnalyticsDocument"/>.
/// </summary>
/// <remarks>Not thread-safe: the owning session guards it with its lock.</remarks>
internal sealed class AnalyticsTracker
{
    /// <summary>The custom metric whose average, when present, is the satisfaction score.</summary>
    public const string SatisfactionMetric = "user_satisfaction";

    /// <summary>Topics reported by <see cref="TopTopics"/>.</summary>
    public const int TopicCount = 5;

    /// <summary>Distinct phrases counted before single mentions are pruned, bounding memory in long sessions.</summary>
    internal const int MaxTrackedPhrases = 4_000;

    /// <summary>Phrases written to storage (the most frequent).</summary>
    internal const int MaxStoredPhrases = 300;

    private static readonly (string Name, string Metric, int Threshold)[] MilestoneDefinitions =
    [
        ("first_conversation", "conversation_count", 1),
        ("conversations_10", "conversation_count", 10),
        ("conversations_50", "conversation_count", 50),
        ("conversations_100", "conversation_count", 100),
        ("messages_10", "message_count", 10),
        ("messages_50", "message_count", 50),
        ("messages_100", "message_count", 100),
        ("messages_500", "message_count", 500),
        ("messages_1000", "message_count", 1000),
    ];

    private readonly Dictionary<string, int> _phrases = new(StringComparer.Ordinal);
    private readonly int[] _hourly = new int[24];
    private readonly Dictionary<string, CustomMetric> _metrics = new(StringComparer.Ordinal);
    private readonly HashSet<string> _milestones = new(StringComparer.Ordinal);
    private double _sentimentSum;
    private int _sentimentSamples;

    /// <summary>Counts a user message: its topic phrases, its hour of day in <paramref name="zone"/>, its sentiment.</summary>
    public void ObserveUserMessage(TextFeatures features, DateTimeOffset at, TimeZoneInfo zone)
    {
        foreach (var phrase in features.Phrases)
        {
            _phrases[phrase] = _phrases.GetValueOrDefault(phrase) + 1;
        }

        if (_phrases.Count > MaxTrackedPhrases)
        {
            var floor = _phrases.Values.Min();
            foreach (var key in _phrases.Where(p => p.Value <= floor).Select(p => p.Key).ToList())
            {
                _phrases.Remove(key);
            }
        }

        _hourly[TimeZoneInfo.ConvertTime(at, zone).Hour]++;
        if (features.Sentiment is { } sentiment)
        {
            _sentimentSum += sentiment;
            _sentimentSamples++;
        }
    }

    /// <summary>Adds a value to a custom metric.</summary>
    public void Track(string name, double value) =>
        _metrics[name] = (_metrics.TryGetValue(name, out var metric) ? metric : new CustomMetric(name, 0, 0, 0, 0, 0)).With(value);

    /// <summary>A copy of the custom metrics by name.</summary>
    public IReadOnlyDictionary<string, CustomMetric> Metrics => new Dictionary<string, CustomMetric>(_metrics, StringComparer.Ordinal);

    /// <summary>The most discussed topics: phrases mentioned at least twice first, then single mentions to fill the list,
    /// each group ranked by mentions times length (two words at most, so rare long phrases do not win), a phrase inside a
    /// chosen one left out.</summary>
    public IReadOnlyList<(string Topic, int Mentions)> TopTopics(int count = TopicCount)
    {
        var chosen = Pick(_phrases.Where(p => p.Value >= 2), count, []);
        return chosen.Count == count ? chosen : Pick(_phrases.Where(p => p.Value < 2), count, chosen);
    }

    /// <summary>1..5 and its source: explicit <c>user_satisfaction</c> metrics win over the sentiment estimate.</summary>
    public (double Score, string Source) Satisfaction()
    {
        if (_metrics.TryGetValue(SatisfactionMetric, out var explicitScore) && explicitScore.Count > 0)
        {
            return (Math.Clamp(explicitScore.Average, 1, 5), "explicit");
        }

        return _sentimentSamples == 0
            ? (3, "none")
            : (Math.Round(3 + (2 * (_sentimentSum / _sentimentSamples)), 2), "estimated");
    }

    /// <summary>User messages per hour of day.</summary>
    public int[] HourlyActivity => (int[])_hourly.Clone();

    /// <summary>The busiest hours, busiest first, ties by hour.</summary>
    public IReadOnlyList<int> ActiveHours(int count = 3) =>
        [.. Enumerable.Range(0, 24).Where(h => _hourly[h] > 0).OrderByDescending(h => _hourly[h]).ThenBy(h => h).Take(count)];

    /// <summary>Milestones reached and not fired before; marks them fired.</summary>
    public List<AnalyticsMilestone> NewMilestones(int conversations, int messages, DateTimeOffset now)
    {
        var reached = new List<AnalyticsMilestone>();
        foreach (var (name, metric, threshold) in MilestoneDefinitions)
        {
            var value = metric == "conversation_count" ? conversations : messages;
            if (value >= threshold && _milestones.Add(name))
            {
                reached.Add(new AnalyticsMilestone(name, metric, threshold, value, now));
            }
        }

        return reached;
    }

    /// <summary>Copies the running state into <paramref name="document"/>.</summary>
    public void WriteTo(SessionAnalyticsDocument document)
    {
        document.TopicCounts = _phrases
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(MaxStoredPhrases)
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        document.HourlyMessages = HourlyActivity;
        document.SentimentSum = _sentimentSum;
        document.SentimentSamples = _sentimentSamples;
        document.CustomMetrics = new Dictionary<string, CustomMetric>(_metrics, StringComparer.Ordinal);
        document.Milestones = [.. _milestones.Order(StringComparer.Ordinal)];
    }

    /// <summary>Restores the running state from <paramref name="document"/> (absent parts stay empty).</summary>
    public void ReadFrom(SessionAnalyticsDocument document)
    {
        foreach (var (phrase, count) in document.TopicCounts)
        {
            _phrases[phrase] = count;
        }

        if (document.HourlyMessages.Length == _hourly.Length)
        {
            document.HourlyMessages.CopyTo(_hourly, 0);
        }

        _sentimentSum = document.SentimentSum;
        _sentimentSamples = document.SentimentSamples;
        foreach (var (name, metric) in document.CustomMetrics)
        {
            _metrics[name] = metric with { Name = name };
        }

        _milestones.UnionWith(document.Milestones);
    }

    private static List<(string Topic, int Mentions)> Pick(IEnumerable<KeyValuePair<string, int>> candidates, int count, List<(string Topic, int Mentions)> chosen)
    {
        var ranked = candidates
            .Select(p => (Phrase: p.Key, Mentions: p.Value, Words: WordCount(p.Key)))
            .OrderByDescending(p => p.Mentions * Math.Min(p.Words, 2))
            .ThenBy(p => p.Words switch { 2 => 0, 3 => 1, _ => 2 })
            .ThenBy(p => p.Phrase, StringComparer.Ordinal);
        foreach (var (phrase, mentions, _) in ranked)
        {
            if (chosen.Count == count)
            {
                break;
            }

            if (!chosen.Any(c => IsPartOf(phrase, c.Topic)))
            {
                chosen.Add((phrase, mentions));
            }
        }

        return chosen;
    }

    private static int WordCount(string phrase) => phrase.Count(c => c == ' ') + 1;

    private static bool IsPartOf(string part, string whole) =>
        $" {whole} ".Contains($" {part} ", StringComparison.Ordinal);
}
