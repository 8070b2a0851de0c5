using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Voxon.Adaptation;
using Voxon.Analytics;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Benchmarks;

/// <summary>
/// Harness "analytics": what analytics and adaptation add to a turn (text analysis, topic/hour/sentiment
/// counts, milestone check, preference learning, style guidance), next to a whole turn with the offline engine.
/// </summary>
public static class AnalyticsBenchmarks
{
    private const int Turns = 2_000;

    private static readonly string[] Script =
    [
        "Could you please explain the Hamiltonian formulation of quantum mechanics?",
        "hey whats up lol, can u tell me about black holes",
        "I would appreciate a clarification regarding eigenstate decomposition.",
        "That was really helpful, thanks! What about neutron stars?",
        "My name is Alice and I live in Lyon.",
        "Not bad, but the part about entropy was confusing.",
    ];

    public static void RegisterHarnesses() => Harness.Register("analytics", RunAsync);

    private static async Task RunAsync()
    {
        // The per-turn work OnTurnRecorded and StyleGuidance do, on the same internal types, without the engine.
        var tracker = new AnalyticsTracker();
        var learner = new PreferenceLearner();
        var overrides = new Dictionary<string, string> { ["voice_speed"] = "slow" };
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        var at = new DateTimeOffset(2024, 1, 15, 14, 30, 0, TimeSpan.Zero);
        var insights = Harness.Measure("analytics + adaptation per turn (in-process)", Turns, i =>
        {
            var text = Script[(i & int.MaxValue) % Script.Length];
            var features = TextFeatures.Analyze(text);
            tracker.ObserveUserMessage(features, at, zone);
            tracker.NewMilestones(1, 2 * (i + 10), at);
            learner.Observe(features, 3.5);
            StyleGuide.Render(PreferenceLearner.Effective(learner.Learned(), overrides), overrides, learner.Ready);
        }, warmup: 50);
        Harness.Measure("topic ranking of GetAnalytics (on demand, not per turn)", 200, _ => tracker.TopTopics(), warmup: 5);

        // A whole turn through a session with the offline engine and the local embedding model, features on and off.
        var folder = Path.Combine(Path.GetTempPath(), "voxon-bench-analytics-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var voxon = new VoxonClient(new VoxonOptions
            {
                Storage = new FileSessionStorage(folder),
                UseEnvironment = false,
                TimeProvider = new FakeTimeProvider(at),
            });
            // Interleaved so warm-up, GC and history growth affect both the same way.
            var (on, off) = await InterleavedTurnsAsync(voxon);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"analytics + adaptation share of a turn: p50 {insights.P50 / on.P50:P2}, p99 {insights.P99 / on.P99:P2} (turn p50 on/off {on.P50:F3}/{off.P50:F3} ms, p99 {on.P99:F3}/{off.P99:F3} ms)"));
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static async Task<(Stats On, Stats Off)> InterleavedTurnsAsync(VoxonClient voxon)
    {
        const int turns = 500, warmup = 20;
        var on = await (await voxon.CreateSessionAsync("bench_user", new SessionConfig())).StartConversationAsync();
        var off = await (await voxon.CreateSessionAsync("bench_user", new SessionConfig { EnableAnalytics = false, EnableLearning = false, EnableAdaptation = false })).StartConversationAsync();
        var onSamples = new double[turns];
        var offSamples = new double[turns];
        for (var i = -warmup; i < turns; i++)
        {
            var text = Script[(i + warmup) % Script.Length];
            var start = Stopwatch.GetTimestamp();
            await on.SendMessageAsync(text);
            var onTime = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            start = Stopwatch.GetTimestamp();
            await off.SendMessageAsync(text);
            var offTime = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (i >= 0)
            {
                onSamples[i] = onTime;
                offSamples[i] = offTime;
            }
        }

        var (onStats, offStats) = (Stats.From(onSamples), Stats.From(offSamples));
        foreach (var (label, stats) in new[] { ("full turn, offline engine, analytics + adaptation on", onStats), ("full turn, offline engine, analytics + adaptation off", offStats) })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label,-60} n={turns,5}  p50={stats.P50,9:F3} ms  p90={stats.P90,9:F3} ms  p99={stats.P99,9:F3} ms  max={stats.Max,9:F3} ms"));
        }

        return (onStats, offStats);
    }
}
