using System.Text.Json;
using Voxon.Analytics;
using Voxon.Events;
using Voxon.Sessions;

namespace Voxon.Tests.Analytics;

public sealed class SessionAnalyticsTests
{
    private static readonly string[] PhysicsConversation =
    [
        "I have been reading about quantum physics lately.",
        "How does quantum entanglement work between two particles?",
        "Is quantum physics related to general relativity?",
        "What experiments proved quantum entanglement?",
    ];

    [Fact]
    public async Task Topics_of_a_physics_conversation_are_its_physics_terms_not_stop_words()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.SessionWithAsync(null, PhysicsConversation);

        var analytics = session.GetAnalytics();

        Assert.Contains("quantum physics", analytics.Topics);
        Assert.Contains("quantum entanglement", analytics.Topics);
        Assert.Equal(["quantum entanglement", "quantum physics"], analytics.Topics.Take(2));
        Assert.DoesNotContain(analytics.Topics, t => t.Split(' ').Any(w => w is "the" or "about" or "how" or "does" or "what" or "lately"));
        Assert.Equal(2, analytics.TopicMentions["quantum physics"]);
    }

    [Fact]
    public async Task Redaction_markers_of_redacted_personal_data_are_not_topics()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.SessionWithAsync(new SessionConfig { RedactPii = true },
            "Send the garden report to alice@example.com please.",
            "Also copy bob@example.com on the garden report.",
            "And carol@example.com wants the garden report too.");

        var analytics = session.GetAnalytics();

        Assert.Contains("garden report", analytics.Topics);
        Assert.DoesNotContain(analytics.TopicMentions.Keys, t => t.Contains("redacted", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Topic_extraction_is_deterministic_and_cuts_phrases_at_stop_words_and_punctuation()
    {
        var first = TextFeatures.Analyze("Tell me about black holes, and neutron stars.");
        var second = TextFeatures.Analyze("Tell me about black holes, and neutron stars.");

        Assert.Equal(first.Phrases, second.Phrases);
        Assert.Contains("black holes", first.Phrases);
        Assert.Contains("neutron stars", first.Phrases);
        Assert.DoesNotContain("holes neutron", first.Phrases);
        Assert.DoesNotContain(first.Phrases, p => p.Contains("tell") || p.Contains("about"));
    }

    [Theory]
    [InlineData("This was really helpful, thanks!", 1)]
    [InlineData("That answer is wrong and confusing.", -1)]
    [InlineData("That was not helpful at all.", -1)]
    [InlineData("Not bad, actually.", 1)]
    public void Sentiment_handles_negation(string text, int sign)
    {
        var sentiment = TextFeatures.Analyze(text).Sentiment;

        Assert.NotNull(sentiment);
        Assert.Equal(sign, Math.Sign(sentiment.Value));
    }

    [Fact]
    public async Task Satisfaction_is_estimated_from_what_the_user_said()
    {
        await using var client = InsightsTestClient.Create();
        var pleased = await client.SessionWithAsync(null, "Thanks, that was really helpful!", "Great explanation, I love it.");
        var displeased = await client.SessionWithAsync(null, "That was not helpful.", "This is confusing and wrong.");
        var silent = await client.SessionWithAsync(null, "What time is it in Tokyo?");

        Assert.Equal("estimated", pleased.GetAnalytics().SatisfactionSource);
        Assert.True(pleased.GetAnalytics().SatisfactionScore > 4);
        Assert.True(displeased.GetAnalytics().SatisfactionScore < 2);
        Assert.Equal((3, "none"), (silent.GetAnalytics().SatisfactionScore, silent.GetAnalytics().SatisfactionSource));
    }

    [Fact]
    public async Task Explicit_user_satisfaction_metrics_win_over_the_estimate()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.SessionWithAsync(null, "That was not helpful, this is wrong.");

        session.TrackMetric("user_satisfaction", 4.5);
        session.TrackMetric("user_satisfaction", 3.5);

        var analytics = session.GetAnalytics();
        Assert.Equal("explicit", analytics.SatisfactionSource);
        Assert.Equal(4.0, analytics.SatisfactionScore, 6);
    }

    [Fact]
    public async Task Active_hours_are_hours_of_user_messages_in_the_session_time_zone()
    {
        // 14:30 UTC on 15 January is 09:30 in New York (EST, UTC-5).
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1", new SessionConfig { TimeZone = "America/New_York" });
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("Good morning.");
        await conversation.SendMessageAsync("Plan my day please.");
        client.Time.Advance(TimeSpan.FromHours(6));
        await conversation.SendMessageAsync("Good evening.");

        var analytics = session.GetAnalytics();

        Assert.Equal([9, 15], analytics.ActiveHours);
        Assert.Equal(2, analytics.HourlyActivity[9]);
        Assert.Equal(1, analytics.HourlyActivity[15]);
        Assert.Equal(0, analytics.HourlyActivity[14]);
        Assert.Equal("America/New_York", analytics.TimeZone);
    }

    [Fact]
    public async Task Counts_and_durations_cover_all_conversations()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        var first = await session.StartConversationAsync();
        await first.SendMessageAsync("Hello there.");
        client.Time.Advance(TimeSpan.FromSeconds(60));
        await first.EndAsync();
        var second = await session.StartConversationAsync();
        await second.SendMessageAsync("Hello again.");
        await second.SendMessageAsync("Still here.");
        client.Time.Advance(TimeSpan.FromSeconds(120));
        await second.EndAsync();

        var analytics = session.GetAnalytics();

        Assert.Equal(2, analytics.ConversationCount);
        Assert.Equal(6, analytics.MessageCount);
        Assert.Equal(180, analytics.TotalDurationSeconds, 6);
        Assert.Equal(90, analytics.AvgDurationSeconds, 6);
    }

    [Fact]
    public async Task Conversation_analytics_count_turns_interruptions_injections_and_response_time()
    {
        await using var client = InsightsTestClient.Create(time => new RecordingChatClient(time, TimeSpan.FromMilliseconds(250)));
        var session = await client.Voxon.CreateSessionAsync("user_1");
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My name is Alice and I love astronomy.");
        await conversation.SendMessageAsync("What is my name?");
        Assert.True(conversation.ReportInterruption());
        Assert.False(conversation.ReportInterruption()); // already marked
        client.Time.Advance(TimeSpan.FromSeconds(30));

        var analytics = conversation.GetAnalytics();

        Assert.Equal(conversation.ConversationId, analytics.ConversationId);
        Assert.Equal(4, analytics.TurnCount);
        Assert.Equal(1, analytics.InterruptionCount);
        Assert.True(analytics.InjectionCount >= 1, "the second turn injects the remembered name");
        Assert.Equal(250, analytics.AvgResponseTimeMs, 6);
        Assert.Equal(30.5, analytics.DurationSeconds, 6);
        Assert.True(conversation.Transcript[^1].Interrupted);
        Assert.Equal(analytics, session.GetConversationAnalytics(conversation.ConversationId));
    }

    [Fact]
    public async Task Custom_metrics_aggregate_count_sum_last_min_max_and_average()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");

        session.TrackMetric("task_completed", 1);
        session.TrackMetric("task_completed", 1);
        session.TrackMetric("latency", 30);
        session.TrackMetric("latency", 10);
        session.TrackMetric("latency", 20);

        var metrics = session.GetCustomMetrics();
        Assert.Equal(new CustomMetric("task_completed", 2, 2, 1, 1, 1), metrics["task_completed"]);
        var latency = metrics["latency"];
        Assert.Equal((3L, 60.0, 20.0, 10.0, 30.0, 20.0), (latency.Count, latency.Sum, latency.Last, latency.Min, latency.Max, latency.Average));
        Assert.Throws<ArgumentException>(() => session.TrackMetric("bad name!", 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => session.TrackMetric("x", double.NaN));
    }

    [Fact]
    public async Task Analytics_and_custom_metrics_survive_save_and_load()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.SessionWithAsync(new SessionConfig { TimeZone = "Europe/Paris" }, PhysicsConversation);
        session.TrackMetric("user_satisfaction", 5);
        session.TrackMetric("task_completed", 1);
        var before = session.GetAnalytics();
        await session.SaveAsync();

        await using var later = client.Open();
        var loaded = await later.LoadSessionAsync(session.SessionId);
        var after = loaded.GetAnalytics();

        Assert.Equal(before.Topics, after.Topics);
        Assert.Equal(before.ActiveHours, after.ActiveHours);
        Assert.Equal(before.HourlyActivity, after.HourlyActivity);
        Assert.Equal(before.SatisfactionScore, after.SatisfactionScore);
        Assert.Equal(before.MessageCount, after.MessageCount);
        Assert.Equal(before.TotalDurationSeconds, after.TotalDurationSeconds, 6);
        Assert.Equal(session.GetCustomMetrics(), loaded.GetCustomMetrics());
        Assert.Equal([15], after.ActiveHours); // 14:30 UTC is 15:30 in Paris
    }

    [Fact]
    public async Task Milestones_fire_once_each_also_across_save_and_load()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        var fired = new List<AnalyticsMilestone>();
        session.Events.On(SessionEventNames.AnalyticsMilestone, e => fired.Add(e.DataAs<AnalyticsMilestone>()!));
        var conversation = await session.StartConversationAsync();
        for (var i = 0; i < 6; i++)
        {
            await conversation.SendMessageAsync($"Message number {i}.");
        }

        Assert.Equal(["first_conversation", "messages_10"], fired.Select(m => m.Milestone));
        Assert.Equal(10, fired[1].Threshold);
        Assert.Equal(10, fired[1].Value);
        await session.SaveAsync();

        await using var later = client.Open();
        var loaded = await later.LoadSessionAsync(session.SessionId);
        var firedAfterLoad = new List<string>();
        loaded.Events.On("analytics.*", e => firedAfterLoad.Add(e.DataAs<AnalyticsMilestone>()!.Milestone));
        var resumed = await loaded.ResumeConversationAsync();
        for (var i = 0; i < 20; i++)
        {
            await resumed.SendMessageAsync($"Later message {i}.");
        }

        Assert.Equal(["messages_50"], firedAfterLoad);
    }

    [Fact]
    public async Task Analytics_serialize_with_the_spec_snake_case_names()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.SessionWithAsync(null, "Hello.");

        var json = JsonSerializer.Serialize(session.GetAnalytics());
        var conversationJson = JsonSerializer.Serialize(session.GetConversationAnalytics(session.Conversations[0].ConversationId));

        foreach (var name in new[] { "conversation_count", "message_count", "avg_duration_seconds", "total_duration_seconds", "topics", "satisfaction_score", "active_hours" })
        {
            Assert.Contains($"\"{name}\":", json);
        }

        foreach (var name in new[] { "duration_seconds", "turn_count", "interruption_count", "injection_count", "avg_response_time_ms" })
        {
            Assert.Contains($"\"{name}\":", conversationJson);
        }
    }
}
