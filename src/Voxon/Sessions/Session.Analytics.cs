using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Voxon.Adaptation;
using Voxon.Analytics;
using Voxon.Conversations;
using Voxon.Diagnostics;
using Voxon.Events;
using Voxon.Storage;
using Voxon.Turns;

namespace Voxon.Sessions;

public sealed partial class Session
{
    private readonly AnalyticsTracker _analytics = new();
    private readonly PreferenceLearner _learner = new();

    /// <summary>Milestone and preference events found under the lock, raised after it is released.</summary>
    private readonly List<(string Type, object Data)> _pendingInsights = [];

    /// <summary>The session's analytics: counts, durations, topics, satisfaction and active hours.</summary>
    /// <remarks>Topics, satisfaction estimate and active hours come from user messages recorded while
    /// <see cref="SessionConfig.EnableAnalytics"/> was on.</remarks>
    public SessionAnalytics GetAnalytics()
    {
        lock (_gate)
        {
            var now = _runtime.Time.GetUtcNow();
            var total = _conversationOrder.Sum(c => c.DurationSeconds(now));
            var topics = WithoutNames(_analytics.TopTopics(AnalyticsTracker.TopicCount + 2), now).Take(AnalyticsTracker.TopicCount).ToList();
            var (satisfaction, source) = _analytics.Satisfaction();
            return new SessionAnalytics
            {
                ConversationCount = _conversationOrder.Count,
                MessageCount = MessageCount(),
                TotalDurationSeconds = total,
                AvgDurationSeconds = _conversationOrder.Count == 0 ? 0 : total / _conversationOrder.Count,
                Topics = [.. topics.Select(t => t.Topic)],
                TopicMentions = topics.ToDictionary(t => t.Topic, t => t.Mentions, StringComparer.Ordinal),
                SatisfactionScore = satisfaction,
                SatisfactionSource = source,
                ActiveHours = _analytics.ActiveHours(),
                HourlyActivity = _analytics.HourlyActivity,
                TimeZone = Config.TimeZone,
            };
        }
    }

    /// <summary>Topics without the user's own name: "My name is Alice" is not a subject of conversation. Caller holds the lock.</summary>
    private IEnumerable<(string Topic, int Mentions)> WithoutNames(IEnumerable<(string Topic, int Mentions)> topics, DateTimeOffset now)
    {
        const string marker = "name is ";
        var names = _memory.Profile(now)
            .Where(e => e.Slot == "identity.name" && e.Content.Contains(marker, StringComparison.Ordinal))
            .Select(e => e.Content[(e.Content.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].ToLowerInvariant())
            .SelectMany(name => name.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToHashSet(StringComparer.Ordinal);
        return names.Count == 0 ? topics : topics.Where(t => !t.Topic.Split(' ').Any(names.Contains));
    }

    /// <summary>
    /// Like <see cref="GetAnalytics"/>, but with a configured model (not the offline engine) the topics and the
    /// satisfaction estimate come from the model's reading of the user's recent messages; explicit
    /// <c>user_satisfaction</c> metrics still win, and an unusable model answer keeps the offline estimate.
    /// </summary>
    public async Task<SessionAnalytics> GetAnalyticsAsync(CancellationToken cancellationToken = default)
    {
        var analytics = GetAnalytics();
        if (_runtime.InsightAnalyzer is not { } analyzer)
        {
            return analytics;
        }

        List<string> messages;
        lock (_gate)
        {
            // Sensitive memories never reach a model: values the user stated in the messages are redacted too.
            var now = _runtime.Time.GetUtcNow();
            var secrets = _memory.Live(now).Where(e => e.Sensitive).Select(e => e.Content).ToList();
            messages = [.. _conversationOrder
                .SelectMany(c => c.Turns)
                .Where(t => t.Role == TurnRole.User)
                .OrderBy(t => t.Timestamp)
                .TakeLast(ChatInsightAnalyzer.MaxMessages)
                .Select(t => Security.SensitiveValues.Redact(t.Content, secrets))];
        }

        if (await analyzer.AnalyzeAsync(messages, cancellationToken) is not { } insight)
        {
            return analytics;
        }

        var explicitScore = analytics.SatisfactionSource == "explicit";
        return analytics with
        {
            Topics = insight.Topics,
            TopicMentions = insight.Topics.ToDictionary(t => t, t => analytics.TopicMentions.GetValueOrDefault(t), StringComparer.Ordinal),
            SatisfactionScore = explicitScore ? analytics.SatisfactionScore : insight.Satisfaction,
            SatisfactionSource = explicitScore ? "explicit" : "model",
        };
    }

    /// <summary>Adds a value to a custom metric (the spec's <c>track_metric</c>); persisted with the session.
    /// A metric named <c>user_satisfaction</c> (1..5) sets the satisfaction score.</summary>
    /// <param name="name">Letters, digits, '_', '.', '-'; at most 64 characters.</param>
    /// <param name="value">A finite number.</param>
    /// <exception cref="ArgumentException">The name is malformed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite, or would overflow the metric's sum.</exception>
    /// <exception cref="SessionStateException">The session is closed.</exception>
    public void TrackMetric(string name, double value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!CategoryPattern().IsMatch(name))
        {
            throw new ArgumentException($"Metric name '{name}' may contain only letters, digits, '_', '-' and '.' (at most 64).", nameof(name));
        }

        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "A metric value must be a finite number.");
        }

        lock (_gate)
        {
            ThrowIfClosed();
            _analytics.Track(name, value);
            UpdatedAt = _runtime.Time.GetUtcNow();
        }

        _runtime.Telemetry.Add(AnalyticsTelemetry.MetricsTracked);
    }

    /// <summary>Custom metrics by name: count, sum, last, min, max and average of each.</summary>
    public IReadOnlyDictionary<string, CustomMetric> GetCustomMetrics()
    {
        lock (_gate)
        {
            return _analytics.Metrics;
        }
    }

    /// <summary>What the session learned about how the user talks, with overrides (<see cref="SetPreference"/>) applied.</summary>
    public LearnedPreferences GetLearnedPreferences()
    {
        lock (_gate)
        {
            return PreferenceLearner.Effective(_learner.Learned(), _preferences);
        }
    }

    /// <summary>A profile of the learned preferences, overrides and topics, to apply to another session or merge.</summary>
    public SessionProfile ExportPreferenceProfile()
    {
        lock (_gate)
        {
            return new SessionProfile
            {
                UserId = UserId,
                Preferences = _learner.Learned(),
                Overrides = new Dictionary<string, string>(_preferences, StringComparer.Ordinal),
                Topics = [.. _analytics.TopTopics(PreferenceLearner.MaxProfileTopics).Select(t => t.Topic)
                    .Concat(_learner.ProfileTopics)
                    .Distinct(StringComparer.Ordinal)
                    .Take(PreferenceLearner.MaxProfileTopics)],
            };
        }
    }

    /// <summary>Starts learning from <paramref name="profile"/>; its overrides apply unless the session has its own.</summary>
    internal void ApplyProfile(SessionProfile profile)
    {
        lock (_gate)
        {
            _learner.Seed(profile);
            foreach (var (name, value) in profile.Overrides)
            {
                _preferences.TryAdd(name, value);
            }
        }
    }

    /// <summary>Analytics of a conversation of this session, open or not (<see cref="Conversation.GetAnalytics"/> for an open one).</summary>
    /// <exception cref="SessionStateException">No conversation has that id.</exception>
    public ConversationAnalytics GetConversationAnalytics(string conversationId)
    {
        lock (_gate)
        {
            return GetConversationAnalytics(FindConversation(conversationId));
        }
    }

    /// <summary>Analytics of one conversation of this session.</summary>
    internal ConversationAnalytics GetConversationAnalytics(ConversationState state)
    {
        lock (_gate)
        {
            var responses = state.Turns.Where(t => t.Role == TurnRole.Assistant && t.ResponseTimeMs is not null).Select(t => t.ResponseTimeMs!.Value).ToList();
            var firstTokens = state.Turns.Where(t => t.TimeToFirstTokenMs is not null).Select(t => t.TimeToFirstTokenMs!.Value).ToList();
            return new ConversationAnalytics
            {
                ConversationId = state.Id,
                DurationSeconds = state.DurationSeconds(_runtime.Time.GetUtcNow()),
                TurnCount = state.Turns.Count,
                InterruptionCount = state.Turns.Count(t => t.Interrupted),
                InjectionCount = state.InjectionCount,
                AvgResponseTimeMs = responses.Count == 0 ? 0 : responses.Average(),
                AvgTimeToFirstTokenMs = firstTokens.Count == 0 ? 0 : firstTokens.Average(),
            };
        }
    }

    partial void OnTurnRecorded(ConversationState state, ConversationTurn? user, ConversationTurn? assistant)
    {
        if (user is null)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        TextFeatures? features = null;
        if (Config.EnableAnalytics)
        {
            features = TextFeatures.Analyze(user.Content);
            _analytics.ObserveUserMessage(features, user.Timestamp, Config.TimeZoneInfo);
            QueueMilestones(user.Timestamp);
        }

        if (Config.EnableLearning)
        {
            features ??= TextFeatures.Analyze(user.Content);
            QueuePreferenceChanges(_learner.Observe(features, user.AudioSeconds));
        }

        if (Activity.Current is { } activity && activity.Source == VoxonTelemetry.Source)
        {
            activity.SetTag("voxon.turn.user_words", features?.WordCount);
            activity.SetTag("voxon.turn.injected_memories", user.InjectedMemoryIds?.Count ?? 0);
            activity.SetTag("voxon.turn.response_time_ms", assistant?.ResponseTimeMs);
            activity.SetTag("voxon.turn.audio_seconds", user.AudioSeconds);
        }

        _runtime.Telemetry.Record(AnalyticsTelemetry.TurnCost, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>Adaptation leans towards shorter replies after an interruption. Caller holds the lock.</summary>
    void ITurnHost.OnInterrupted(DateTimeOffset now)
    {
        UpdatedAt = now;
        if (Config.EnableLearning)
        {
            QueuePreferenceChanges(_learner.ObserveInterruption());
        }
    }

    /// <summary>Raises the milestone and preference events found under the lock. Call without holding the lock.</summary>
    private void RaisePendingInsights()
    {
        List<(string Type, object Data)> pending;
        lock (_gate)
        {
            if (_pendingInsights.Count == 0)
            {
                return;
            }

            pending = [.. _pendingInsights];
            _pendingInsights.Clear();
        }

        foreach (var (type, data) in pending)
        {
            Raise(type, data);
        }
    }

    /// <summary>Queues the milestones newly reached. Caller holds the lock.</summary>
    private void QueueMilestones(DateTimeOffset now)
    {
        foreach (var milestone in _analytics.NewMilestones(_conversationOrder.Count, MessageCount(), now))
        {
            _logger.LogInformation("Session {SessionId} reached milestone {Milestone} ({Metric} = {Value}).", SessionId, milestone.Milestone, milestone.Metric, milestone.Value);
            _runtime.Telemetry.Add(AnalyticsTelemetry.Milestones);
            _pendingInsights.Add((SessionEventNames.AnalyticsMilestone, milestone));
        }
    }

    /// <summary>Queues preference.learned events. Caller holds the lock.</summary>
    private void QueuePreferenceChanges(List<PreferenceChange> changes)
    {
        foreach (var change in changes)
        {
            _logger.LogDebug("Session {SessionId} learned {Preference} = {Value} from {Evidence} messages.", SessionId, change.Name, change.Current, change.EvidenceCount);
            _runtime.Telemetry.Add(AnalyticsTelemetry.PreferencesLearned);
            _pendingInsights.Add((SessionEventNames.PreferenceLearned, change));
        }
    }

    /// <summary>Messages in all transcripts, without reading those a lazy load left unread. Caller holds the lock.</summary>
    private int MessageCount() => _conversationOrder.Sum(c => c.TurnCountLoaded);

    /// <summary>Adds the running analytics and learned state to a document being saved. Caller holds the lock.</summary>
    private void WriteInsights(SessionDocument document)
    {
        _analytics.WriteTo(document.Analytics);
        document.LearnedPreferences = _learner.ToDocument();
    }

    /// <summary>Continues the running analytics and learning from a loaded document.</summary>
    private void RestoreInsights(SessionDocument document)
    {
        _analytics.ReadFrom(document.Analytics);
        _learner.Restore(document.LearnedPreferences);
    }
}
