using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Voxon.Memory.Search;
using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Storage.Worker;

namespace Voxon.Benchmarks;

/// <summary>
/// Harness "load-profile": where a file-backend load of 1,000 and 10,000 memories spends its time, phase by phase
/// (read, JSON decoding, embedding decoding, validation, assembly, session and search index build), with allocations.
/// Run: dotnet run -c Release --project bench/Voxon.Benchmarks -- harness load-profile
/// </summary>
public static class LoadProfile
{
    public static void RegisterHarnesses() => Harness.Register("load-profile", RunAsync);

    private static async Task RunAsync()
    {
        foreach (var memories in new[] { 1_000, 10_000 })
        {
            var folder = Directory.CreateTempSubdirectory("voxon-profile-").FullName;
            try
            {
                await using var storage = new FileSessionStorage(folder);
                await using var client = WorkerStorage.Client(storage);
                var (session, _) = await StorageBenchmarks.CreateSessionAsync(client, memories);
                await session.DisposeAsync();
                await ProfileAsync(client, storage, session.SessionId, memories, folder);
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static async Task ProfileAsync(VoxonClient client, FileSessionStorage storage, string id, int memories, string folder)
    {
        var path = Path.Combine(folder, id + ".json");
        var phases = new Dictionary<string, List<double>>();
        var allocated = new Dictionary<string, long>();
        void Add(string phase, double ms, long bytes)
        {
            if (!phases.TryGetValue(phase, out var list))
            {
                phases[phase] = list = [];
            }

            list.Add(ms);
            allocated[phase] = bytes;
        }

        T Time<T>(string phase, Func<T> run)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var start = Stopwatch.GetTimestamp();
            var result = run();
            Add(phase, Stopwatch.GetElapsedTime(start).TotalMilliseconds, GC.GetAllocatedBytesForCurrentThread() - before);
            return result;
        }

        for (var i = -2; i < 15; i++)
        {
            var bytes = Time("read file bytes", () => File.ReadAllBytes(path));
            var document = Time("JSON decode (with base64 embeddings)", () => JsonSerializer.Deserialize(bytes, VoxonJsonContext.Default.SessionDocument)!);
            var base64 = document.Memory.Entries.Select(e => EmbeddingCodec.ToBase64(e.Embedding)).ToList();
            Time("  of which base64 embedding decode", () => base64.Select(EmbeddingCodec.FromBase64).Count());
            Time("validation", () => SessionDocumentSerializer.Problems(document, id));
            Time("assembly (seed, sort, validate again)", () =>
            {
                var assembler = new SessionAssembler("file", id);
                assembler.Seed(document);
                return assembler.Build()!;
            });
            var whole = await TimeAsync("storage.LoadAsync (whole)", () => storage.LoadAsync(id));
            Time("session + search index build", () => Session.FromDocument(RuntimeOf(client), whole!));
            if (i < 0)
            {
                phases.Clear();
            }
        }

        Console.WriteLine($"-- file, {memories / 1000}k memories/100 conversations, {new FileInfo(path).Length:N0} bytes");
        foreach (var (phase, samples) in phases)
        {
            var stats = Stats.From([.. samples]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{phase,-45} p50={stats.P50,9:F3} ms  p99={stats.P99,9:F3} ms  allocated={allocated[phase] / 1024.0 / 1024.0,8:F1} MiB"));
        }

        async Task<T> TimeAsync<T>(string phase, Func<Task<T>> run)
        {
            var start = Stopwatch.GetTimestamp();
            var result = await run();
            Add(phase, Stopwatch.GetElapsedTime(start).TotalMilliseconds, 0);
            return result;
        }
    }

    private static VoxonRuntime RuntimeOf(VoxonClient client) =>
        (VoxonRuntime)typeof(VoxonClient).GetField("_runtime", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(client)!;
}
