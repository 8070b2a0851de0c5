using System.Diagnostics;
using Voxon.Memory.Search;

namespace Voxon.Benchmarks;

/// <summary>
/// The "search-hot" harness: the default (int8) hybrid search with a precomputed query embedding at 10k and 100k
/// memories, without the embedding comparisons of the "search" harness, then the same searches in a loop for
/// VOXON_BENCH_HOT_SECONDS (default 0) so a sampling profiler can attach
/// (<c>dotnet-trace collect -- dotnet Voxon.Benchmarks.dll harness search-hot</c>). Uses the cached 10k embeddings.
/// Run: <c>dotnet run -c Release --project bench/Voxon.Benchmarks -- harness search-hot</c>.
/// </summary>
public static class SearchProfile
{
    public static void RegisterHarnesses() => Harness.Register("search-hot", Run);

    private static Task Run()
    {
        var generator = ArcticXsEmbeddingGenerator.Shared;
        var random = new Random(42);
        var texts = Enumerable.Range(0, 100_000).Select(i => SearchBenchmarks.Sentence(random, i)).ToArray();
        var embeddings = SearchBenchmarks.CachedEmbeddings(generator, texts[..10_000]);
        var queries = Enumerable.Range(0, 14).Select(SearchBenchmarks.Query).ToArray();
        var queryVectors = generator.GenerateAsync(queries, LocalEmbeddingGenerator.QueryOptions).GetAwaiter().GetResult().Select(e => e.Vector).ToArray();
        var now = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var seconds = double.TryParse(Environment.GetEnvironmentVariable("VOXON_BENCH_HOT_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : 0;
        foreach (var size in new[] { 10_000, 100_000 })
        {
            var index = new HybridMemoryIndex();
            for (var i = 0; i < size; i++)
            {
                var vector = i < 10_000 ? embeddings[i] : embeddings[i % 10_000].Select(x => x + (float)((random.NextDouble() - 0.5) * 0.02)).ToArray();
                var day = new DateOnly(2023, 1, 1).AddDays(i % 730);
                index.Upsert($"m{i}", texts[i], vector, new IndexedTime(day, day, Stated: i % 5 == 0));
            }

            void Search(int i) => index.Search(queries[(i & int.MaxValue) % queries.Length], queryVectors[(i & int.MaxValue) % queries.Length], 10, time: TimeFocus.Parse(queries[(i & int.MaxValue) % queries.Length], now));
            var gen0 = GC.CollectionCount(0);
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var iterations = size >= 100_000 ? 400 : 2000;
            Harness.Measure($"[{size:N0}] hybrid, precomputed query embedding, Int8", iterations, Search, warmup: 20);
            Console.WriteLine($"[{size:N0}] allocated {(GC.GetAllocatedBytesForCurrentThread() - allocated) / (iterations + 20):N0} B per search (this thread), gen0 collections {GC.CollectionCount(0) - gen0}");
            var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
            for (var i = 0; Stopwatch.GetTimestamp() < until; i++)
            {
                Search(i);
            }
        }

        return Task.CompletedTask;
    }
}
