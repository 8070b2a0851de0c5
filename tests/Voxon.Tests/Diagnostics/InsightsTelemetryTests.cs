using System.Diagnostics;
using System.Diagnostics.Metrics;
using Voxon.Diagnostics;
using Voxon.Tests.Analytics;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Diagnostics;

public sealed class InsightsTelemetryTests
{
    [Fact]
    public async Task A_turn_records_metrics_and_a_tagged_span()
    {
        // Instruments are process-wide and tests run in parallel: count only what is at least ours, and match spans by session id.
        var measurements = new List<(string Instrument, double Value)>();
        var spans = new List<Activity>();
        using var listening = Listen(measurements, spans);

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

    [Fact]
    public async Task The_warm_up_rehearses_a_first_call_that_is_not_stored_counted_traced_or_logged_as_turns()
    {
        // Attributed by execution flow: the warm-up runs in this test's flow (it flows into the background thread and
        // the turns' awaits), other tests' turns do not.
        var ours = new AsyncLocal<bool>();
        var measurements = new List<(string Instrument, double Value)>();
        var spans = new List<Activity>();
        using var listening = Listen(measurements, spans, () => ours.Value);
        var logs = new LogCollector();
        await using var voxon = new TestVoxon(configure: o => o.LoggerFactory = logs.Factory);

        ours.Value = true;
        await voxon.Client.WarmUpAsync();
        ours.Value = false;

        Assert.Contains(logs.Messages, m => m.StartsWith("Warmed up in ", StringComparison.Ordinal) && m.Contains("turn path compiled by a rehearsed conversation", StringComparison.Ordinal));
        Assert.Single(logs.Messages); // the rehearsal's session logs nothing
        lock (measurements)
        {
            Assert.Empty(measurements);
        }

        lock (spans)
        {
            Assert.Empty(spans);
        }

        Assert.Empty(await voxon.Storage.ListAsync());
        Assert.Empty(Directory.Exists(voxon.StorageFolder) ? Directory.GetFileSystemEntries(voxon.StorageFolder) : []);
    }

    [Fact]
    public async Task The_rehearsal_answers_its_question_from_the_memories_it_made()
    {
        await using var voxon = new TestVoxon();
        var reply = await Voxon.Turns.TurnRehearsal.RunAsync(voxon.Client.Runtime, CancellationToken.None);

        // Extraction, embedding, search and weaving all ran: the offline engine answers from the woven memories.
        Assert.Contains("green tea", reply, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Collects Voxon's measurements and stopped spans (those of flows where <paramref name="counted"/> holds, when given).</summary>
    private static IDisposable Listen(List<(string Instrument, double Value)> measurements, List<Activity> spans, Func<bool>? counted = null)
    {
        var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == VoxonTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        void Add(Instrument instrument, double value)
        {
            if (counted?.Invoke() != false)
            {
                lock (measurements)
                {
                    measurements.Add((instrument.Name, value));
                }
            }
        }

        meters.SetMeasurementEventCallback<double>((instrument, value, _, _) => Add(instrument, value));
        meters.SetMeasurementEventCallback<long>((instrument, value, _, _) => Add(instrument, value));
        meters.Start();
        var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == VoxonTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (counted?.Invoke() != false)
                {
                    lock (spans)
                    {
                        spans.Add(activity);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(activities);
        return new Listening(meters, activities);
    }

    private sealed class Listening(MeterListener meters, ActivityListener activities) : IDisposable
    {
        public void Dispose()
        {
            meters.Dispose();
            activities.Dispose();
        }
    }
}
