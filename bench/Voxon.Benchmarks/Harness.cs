using System.Diagnostics;
using System.Globalization;

namespace Voxon.Benchmarks;

/// <summary>
/// A small percentile harness for measurements BenchmarkDotNet reports poorly (per-operation p99 of
/// stateful operations such as a save after a turn). Each harness registers itself by name.
/// </summary>
public static class Harness
{
    private static readonly Dictionary<string, Func<Task>> Registered = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Registers a named harness.</summary>
    public static void Register(string name, Func<Task> run) => Registered[name] = run;

    /// <summary>Runs the harnesses named in <paramref name="names"/>, or all of them.</summary>
    public static async Task<int> RunAsync(string[] names)
    {
        foreach (var type in typeof(Harness).Assembly.GetTypes())
        {
            if (type.GetMethod("RegisterHarnesses") is { IsStatic: true } register)
            {
                register.Invoke(null, null);
            }
        }

        var selected = names.Length == 0 ? Registered.Keys.Order().ToArray() : names;
        foreach (var name in selected)
        {
            if (!Registered.TryGetValue(name, out var run))
            {
                Console.Error.WriteLine($"unknown harness '{name}'; known: {string.Join(", ", Registered.Keys.Order())}");
                return 2;
            }

            Console.WriteLine($"== {name}");
            await run();
        }

        return 0;
    }

    /// <summary>The session sizes (memories) a harness runs: those VOXON_BENCH_MEMORIES lists (e.g. "1000"), else 1,000 and 10,000.</summary>
    public static int[] MemorySizes() =>
        Environment.GetEnvironmentVariable("VOXON_BENCH_MEMORIES") is { Length: > 0 } list
            ? [.. list.Split(',', StringSplitOptions.TrimEntries).Select(n => int.Parse(n, CultureInfo.InvariantCulture))]
            : [1_000, 10_000];

    /// <summary>Times <paramref name="operation"/> <paramref name="iterations"/> times after a warm-up and prints median, p90, p99;
    /// <paramref name="between"/>, when given, runs untimed before each operation.</summary>
    public static async Task<Stats> MeasureAsync(string label, int iterations, Func<int, Task> operation, int warmup = 5, Func<Task>? between = null) =>
        Print(label, await SamplesAsync(iterations, operation, warmup, between));

    /// <summary>The milliseconds of each of <paramref name="iterations"/> timed runs of <paramref name="operation"/>, after
    /// <paramref name="warmup"/> untimed ones; <paramref name="between"/> runs untimed before each timed one.</summary>
    public static async Task<double[]> SamplesAsync(int iterations, Func<int, Task> operation, int warmup = 5, Func<Task>? between = null)
    {
        for (var i = 0; i < warmup; i++)
        {
            await operation(-1 - i);
        }

        var samples = new double[iterations];
        for (var i = 0; i < iterations; i++)
        {
            if (between is not null)
            {
                await between();
            }

            var start = Stopwatch.GetTimestamp();
            await operation(i);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        return samples;
    }

    /// <summary>
    /// Times each of <paramref name="operations"/> once per iteration, one after the other (rotating which goes first),
    /// after a warm-up, so that noise from other work falls on all of them alike; prints each one's percentiles.
    /// </summary>
    public static async Task<Stats[]> MeasureInterleavedAsync(int iterations, IReadOnlyList<(string Label, Func<int, Task> Operation)> operations, int warmup = 5)
    {
        for (var i = 0; i < warmup; i++)
        {
            foreach (var (_, operation) in operations)
            {
                await operation(-1 - i);
            }
        }

        var samples = operations.Select(_ => new double[iterations]).ToArray();
        for (var i = 0; i < iterations; i++)
        {
            for (var k = 0; k < operations.Count; k++)
            {
                var which = (i + k) % operations.Count;
                var start = Stopwatch.GetTimestamp();
                await operations[which].Operation(i);
                samples[which][i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }

        return [.. operations.Select((operation, k) => Print(operation.Label, samples[k]))];
    }

    /// <summary>Prints median, p90, p99 and max of <paramref name="samples"/> (milliseconds) under <paramref name="label"/>.</summary>
    public static Stats Print(string label, double[] samples)
    {
        var stats = Stats.From(samples);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label,-60} n={samples.Length,5}  p50={stats.P50,9:F3} ms  p90={stats.P90,9:F3} ms  p99={stats.P99,9:F3} ms  max={stats.Max,9:F3} ms"));
        return stats;
    }

    /// <summary>Synchronous overload of <see cref="MeasureAsync"/>.</summary>
    public static Stats Measure(string label, int iterations, Action<int> operation, int warmup = 5) =>
        MeasureAsync(label, iterations, i => { operation(i); return Task.CompletedTask; }, warmup).GetAwaiter().GetResult();
}

/// <summary>Percentiles of a sample set, in milliseconds.</summary>
public readonly record struct Stats(double P50, double P90, double P99, double Max)
{
    /// <summary>Computes nearest-rank percentiles.</summary>
    public static Stats From(double[] samples)
    {
        var sorted = samples.Order().ToArray();
        double At(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new Stats(At(0.50), At(0.90), At(0.99), sorted[^1]);
    }
}
