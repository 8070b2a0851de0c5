using System.Diagnostics;
using System.Diagnostics.Metrics;
using Voxon.Diagnostics;
using Voxon.Tests.Analytics;

namespace Voxon.Tests.Diagnostics;

public sealed class InsightsTelemetryTests
{
    [Fact]
    public async Task A_turn_records_metrics_and_a_tagged_span()
    {
        // Instruments are process-wide and tests run in parallel: count only what is at least ours, and match spans by session id.
        var measurements = new List<(string Instrument, double Value)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == VoxonTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<double>((instrument, value, _, _) => { lock (measurements) { measurements.Add((instrument.Name, value)); } });
        meters.SetMeasurementEventCallback<long>((instrument, value, _, _) => { lock (measurements) { measurements.Add((instrument.Name, value)); } });
        meters.Start();
        var spans = new List<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == VoxonTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (spans) { spans.Add(activity); } },
        };
        ActivitySource.AddActivityListener(activities);

        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My name is Alice and I like astronomy.", TimeSpan.FromSeconds(3));
        conversation.ReportInterruption();
        await foreach (var _ in conversation.StreamMessageAsync("And a streamed one"))
        {
        }

        session.TrackMetric("task_completed", 1);

        List<string> names;
        lock (measurements)
        {
            names = [.. measurements.Select(m => m.Instrument)];
        }

        Assert.Contains("voxon.turns", names);
        Assert.Contains("voxon.response_time", names);
        Assert.Contains("voxon.time_to_first_token", names);
        Assert.Contains("voxon.analytics.turn_cost", names);
        Assert.Contains("voxon.memory_tokens", names);
        Assert.Contains("voxon.interruptions", names);
        Assert.Contains("voxon.custom_metrics", names);
        Assert.Contains("voxon.analytics.milestones", names);
        Activity span;
        lock (spans)
        {
            var turns = spans.Where(s => s.OperationName == "voxon.turn" && (string?)s.GetTagItem("voxon.session_id") == session.SessionId).ToList();
            Assert.Equal(2, turns.Count); // the streamed turn has its span too
            span = turns[0];
        }

        Assert.Equal(conversation.ConversationId, span.GetTagItem("voxon.conversation_id"));
        Assert.Equal(8, span.GetTagItem("voxon.turn.user_words"));
        Assert.Equal(3.0, span.GetTagItem("voxon.turn.audio_seconds"));
        Assert.NotNull(span.GetTagItem("voxon.turn.response_time_ms"));
        Assert.DoesNotContain(span.TagObjects, t => t.Value is string s && s.Contains("Alice")); // no message text in spans
    }
}
