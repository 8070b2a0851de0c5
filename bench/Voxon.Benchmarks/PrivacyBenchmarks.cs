using System.Diagnostics;
using System.Globalization;
using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Storage.Worker;

namespace Voxon.Benchmarks;

/// <summary>
/// Harness "privacy", on PostgreSQL at VOXON_TEST_POSTGRES with encryption on: erasing one user among
/// VOXON_BENCH_USERS users (default 1,000) with 3 sessions each (p50 of 20 erasures), then pruning every session
/// (sessions per second). Seeding writes the sessions straight through the storage contract.
/// </summary>
public static class PrivacyBenchmarks
{
    public static void RegisterHarnesses() => Harness.Register("privacy", RunAsync);

    private static async Task RunAsync()
    {
        if (Environment.GetEnvironmentVariable("VOXON_TEST_POSTGRES") is not { } target)
        {
            Console.WriteLine("postgresql: skipped, VOXON_TEST_POSTGRES is not set (scripts/servers.sh start)");
            return;
        }

        var users = int.Parse(Environment.GetEnvironmentVariable("VOXON_BENCH_USERS") ?? "1000", CultureInfo.InvariantCulture);
        var space = "bp" + Guid.NewGuid().ToString("N")[..10];
        await using var storage = WorkerStorage.Open("postgresql", target, space, SessionEncryption.FromKey("privacy benchmark passphrase"));
        var seeding = Stopwatch.StartNew();
        var now = DateTimeOffset.UtcNow;
        await Parallel.ForEachAsync(Enumerable.Range(0, users), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (u, token) =>
        {
            for (var s = 0; s < 3; s++)
            {
                var document = new SessionDocument
                {
                    SessionId = SessionIds.NewSessionId(),
                    UserId = $"user_{u}",
                    Config = new SessionConfig(),
                    Version = 1,
                    CreatedAt = now,
                    UpdatedAt = now.AddDays(-200),
                };
                document.Memory.Entries.Add(new Memory.MemoryEntry { Id = SessionIds.NewId("mem_"), Content = $"user {u} fact {s}", Category = "general", CreatedAt = now, UpdatedAt = now });
                await storage.SaveAsync(document, token);
            }
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeded {users} users x 3 sessions in {seeding.Elapsed.TotalSeconds:F1} s"));

        await Harness.MeasureAsync($"erase one user of {users} (3 sessions, encrypted)", 20, async i => await storage.EraseUserAsync($"user_{(i + 20) % users}"), warmup: 2);

        await using var client = WorkerStorage.Client(storage);
        var remaining = (await storage.ListAsync()).Count;
        var prune = Stopwatch.StartNew();
        var pruned = await client.PruneSessionsAsync(TimeSpan.FromDays(90));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"prune {pruned.SessionIds.Count} of {remaining} sessions: {prune.Elapsed.TotalSeconds:F1} s, {pruned.SessionIds.Count / prune.Elapsed.TotalSeconds:F0} sessions/s"));
    }
}
