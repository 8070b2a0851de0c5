using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;
using Voxon.Memory.Search;

namespace Voxon.Benchmarks;

/// <summary>
/// The "search" harness: hybrid memory search over 1k, 10k and 100k synthetic memories with the real default
/// embedding model (snowflake-arctic-embed-xs; queries with its query instruction), and bulk embedding throughput
/// against the former path (batches of 32 in input order, one at a time).
/// Run: <c>dotnet run -c Release --project bench/Voxon.Benchmarks -- harness search</c>.
/// </summary>
public static class SearchBenchmarks
{
    private static readonly string[] Subjects = ["User", "User's sister", "User's manager", "User's son", "User's best friend", "User's partner", "User's neighbour"];
    private static readonly string[] Verbs =
    [
        "likes", "prefers", "dislikes", "is learning", "wants to try", "often talks about", "is allergic to", "collects",
        "works on", "recently started", "used to enjoy", "is saving money for", "teaches", "is worried about", "plans",
    ];

    private static readonly string[] Objects =
    [
        "hiking in the mountains", "Italian cooking", "jazz piano", "formal language", "early morning runs", "science fiction novels",
        "peanuts", "vintage watches", "a trip to Japan", "the garden", "salsa dancing", "chess openings", "a new car", "yoga classes",
        "board games", "photography", "the dentist appointment", "French lessons", "marathon training", "open source software",
        "oil painting", "bird watching", "a kitchen renovation", "the football season", "spicy food", "classical guitar",
        "meditation", "a podcast about history", "rock climbing", "the mortgage", "sourdough baking", "electric bikes",
    ];

    private static readonly string[] Contexts =
    [
        "on weekends", "every Tuesday", "since last spring", "with friends", "after work", "in Lisbon", "in the summer",
        "during the holidays", "at the community centre", "before breakfast", "twice a month", "near the river", "", "", "",
    ];

    private static readonly string[] Queries =
    [
        "what outdoor activities do I enjoy", "food allergies", "language preference", "what music does my sister play",
        "upcoming trips abroad", "hobbies with friends on weekends", "what is my manager learning", "money and savings goals",
        "dentist appointment", "how do I keep fit", "books and reading", "what does my son collect",
        "when did I start yoga classes", "what did my partner plan in May 2023",
    ];

    private static readonly DateOnly FirstDay = new(2023, 1, 1);

    public static void RegisterHarnesses() => Harness.Register("search", RunAsync);

    private static async Task RunAsync()
    {
        var generator = ArcticXsEmbeddingGenerator.Shared;
        IEmbeddingGenerator<string, Embedding<float>> asInterface = generator;
        var random = new Random(42);
        var texts = Enumerable.Range(0, 100_000).Select(i => Sentence(random, i)).ToArray();
        generator.Embed(texts[..64]); // load the model outside the timings

        // The former bulk path, for the ratio: batches of 32 in input order, one after the other.
        var sample = texts[10_000..12_000];
        var started = Stopwatch.GetTimestamp();
        foreach (var chunk in sample.Chunk(32))
        {
            generator.Embed(chunk);
        }

        var former = Stopwatch.GetElapsedTime(started).TotalSeconds;
        started = Stopwatch.GetTimestamp();
        generator.Embed(sample);
        var bulk = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bulk embedding of {sample.Length:N0} memories: {sample.Length / bulk:F0}/s sorted by length on two threads vs {sample.Length / former:F0}/s in input order one batch at a time ({former / bulk:F2}x)"));

        // Real embeddings for the first 10k texts (the 1k index uses the first 1k of them).
        started = Stopwatch.GetTimestamp();
        var embeddings = CachedEmbeddings(generator, texts[..10_000]);
        Console.WriteLine($"embedded 10,000 memories in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");

        // 100k: embedding 100k texts would take ~10 minutes on 2 cores, so texts 10k..100k reuse the 10k
        // real embeddings cyclically, each component perturbed by up to +-0.01 (the index re-normalizes).
        // Lexical statistics are real for all 100k texts; semantic ranking sees near-duplicate clusters.
        var perturbed = new float[100_000][];
        for (var i = 0; i < perturbed.Length; i++)
        {
            var source = embeddings[i % 10_000];
            perturbed[i] = i < 10_000 ? source : source.Select(x => x + (float)((random.NextDouble() - 0.5) * 0.02)).ToArray();
        }

        await Measure("embed one query", 200, i => EmbedQueryAsync(asInterface, Query(i)));

        var queryVectors = new float[Queries.Length][];
        for (var i = 0; i < Queries.Length; i++)
        {
            queryVectors[i] = (await EmbedQueryAsync(asInterface, Queries[i])).ToArray();
        }
        foreach (var size in new[] { 1_000, 10_000, 100_000 })
        {
            // A method per size, so the previous index is unreachable before the next one is measured.
            await RunSizeAsync(size, texts, perturbed, queryVectors, asInterface, random);
        }
    }

    private static async Task RunSizeAsync(
        int size, string[] texts, float[][] embeddings, float[][] queryVectors, IEmbeddingGenerator<string, Embedding<float>> generator, Random random)
    {
        // One index per scan precision over the same memories, measured interleaved: float32 (the exact scan) is the
        // reference the quantized scans are compared with, in time and in the top 10 they return.
        var precisions = new[] { ScanPrecision.Float32, ScanPrecision.Float16, ScanPrecision.Int8 };
        var indexes = new HybridMemoryIndex[precisions.Length];
        HybridMemoryIndex Build(HybridSearchOptions options)
        {
            var index = new HybridMemoryIndex(options);
            for (var i = 0; i < size; i++)
            {
                var day = FirstDay.AddDays(i % 730);
                index.Upsert($"m{i}", texts[i], embeddings[i], new IndexedTime(day, day, Stated: i % 5 == 0));
            }

            return index;
        }

        for (var p = 0; p < precisions.Length; p++)
        {
            var before = GC.GetTotalMemory(forceFullCollection: true);
            indexes[p] = Build(new HybridSearchOptions { Scan = precisions[p] });
            var after = GC.GetTotalMemory(forceFullCollection: true);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"index of {size:N0}, {precisions[p]} scan: managed memory {(after - before) / 1048576.0:F1} MiB = {(after - before) * 10_000.0 / size / 1048576.0:F1} MiB per 10k memories ({(after - before) / size:N0} B each; 384-d float32 vector = 1,536 B)"));
        }

        var label = size.ToString("N0", CultureInfo.InvariantCulture);
        var iterations = size >= 100_000 ? 200 : 1000;
        var now = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var quantized = indexes[^1];
        Harness.Measure($"[{label}] lexical-only search, top 10", iterations,
            i => quantized.Search(Query(i), ReadOnlyMemory<float>.Empty, 10, time: TimeFocus.Parse(Query(i), now)));
        // The default int8 index also against one whose query is not centred, for the cost of centring, and from the size
        // where the sign-code prefilter starts, against one that scans every int8 code.
        var labels = precisions.Select(p => p.ToString()).ToList();
        var measured = indexes.ToList();
        var whole = size >= new HybridSearchOptions().SignPrefilterFrom ? Build(new HybridSearchOptions { SignPrefilterFrom = int.MaxValue }) : null;
        if (whole is not null)
        {
            labels.Add("Int8 whole scan, no sign prefilter");
            measured.Add(whole);
        }

        var plain = Build(new HybridSearchOptions { Centering = 0 });
        await Harness.MeasureInterleavedAsync(iterations, [.. measured.Append(plain).Select((index, p) => (
            $"[{label}] hybrid, precomputed query embedding, " + (p < labels.Count ? labels[p] : "Int8 plain cosine"),
            (Func<int, Task>)(i =>
            {
                index.Search(Query(i), queryVectors[Mod(i)], 10, time: TimeFocus.Parse(Query(i), now));
                return Task.CompletedTask;
            })))]);
        await Harness.MeasureInterleavedAsync(200, [.. measured.Select((index, p) => (
            $"[{label}] hybrid incl. query embedding, {labels[p]}",
            (Func<int, Task>)(async i =>
            {
                var query = Query(i);
                index.Search(query, await EmbedQueryAsync(generator, query), 10, time: TimeFocus.Parse(query, now));
            })))]);

        foreach (var topK in new[] { 10, 50 })
        {
            for (var p = 1; p < measured.Count; p++)
            {
                var (same, shared) = (0, 0);
                for (var q = 0; q < Queries.Length; q++)
                {
                    var query = Queries[q];
                    var reference = indexes[0].Search(query, queryVectors[q], topK, time: TimeFocus.Parse(query, now)).Select(h => h.Id).ToList();
                    var found = measured[p].Search(query, queryVectors[q], topK, time: TimeFocus.Parse(query, now)).Select(h => h.Id).ToList();
                    same += reference.SequenceEqual(found) ? 1 : 0;
                    shared += reference.Intersect(found).Count();
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{label}] {labels[p]} scan returns the float32 top {topK}, in order, for {same} of {Queries.Length} queries; {(double)shared / Queries.Length:F1} of its {topK} ids on average"));
            }
        }

        await Measure($"[{label}] add one memory (embedding + upsert), {precisions[^1]}", 200, async i =>
        {
            var text = Sentence(random, size + 1_000 + i);
            quantized.Upsert($"new{i}", text, await generator.GenerateVectorAsync(text));
        });
    }

    /// <summary>
    /// The embeddings of <paramref name="texts"/>, kept in the temp folder between runs (the texts are seeded, so they are
    /// the same every run): embedding 10k memories takes minutes on two busy cores, and the timings are of the search.
    /// Set VOXON_BENCH_NO_CACHE=1 to embed afresh (after a change to the document encoder that keeps its model id).
    /// </summary>
    internal static float[][] CachedEmbeddings(ArcticXsEmbeddingGenerator generator, string[] texts)
    {
        // Keyed by the precision documents are embedded in too: a cache from another precision would measure its vectors.
        var key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(generator.DocumentPrecision + "\n" + string.Join('\n', texts))))[..16];
        var path = Path.Combine(Path.GetTempPath(), $"voxon-bench-search-{key}.bin");
        if (Environment.GetEnvironmentVariable("VOXON_BENCH_NO_CACHE") != "1" && File.Exists(path))
        {
            var bytes = File.ReadAllBytes(path);
            var d = bytes.Length / sizeof(float) / texts.Length;
            var cached = new float[texts.Length][];
            for (var i = 0; i < cached.Length; i++)
            {
                cached[i] = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan(i * d * sizeof(float), d * sizeof(float))).ToArray();
            }

            return cached;
        }

        var embeddings = generator.Embed(texts);
        File.WriteAllBytes(path, System.Runtime.InteropServices.MemoryMarshal.AsBytes(embeddings.SelectMany(e => e).ToArray().AsSpan()).ToArray());
        return embeddings;
    }

    private static async Task<ReadOnlyMemory<float>> EmbedQueryAsync(IEmbeddingGenerator<string, Embedding<float>> generator, string query) =>
        (await generator.GenerateAsync([query], LocalEmbeddingGenerator.QueryOptions))[0].Vector;

    private static Task Measure(string label, int iterations, Func<int, Task> operation) =>
        Harness.MeasureAsync(label, iterations, operation);

    private static int Mod(int i) => ((i % Queries.Length) + Queries.Length) % Queries.Length;

    internal static string Query(int i) => Queries[Mod(i)];

    internal static string Sentence(Random random, int i) =>
        string.Join(' ', new[]
        {
            Subjects[random.Next(Subjects.Length)],
            Verbs[random.Next(Verbs.Length)],
            Objects[random.Next(Objects.Length)],
            Contexts[random.Next(Contexts.Length)],
            // A number makes texts distinct the way real memories are (dates, names, amounts).
            i % 3 == 0 ? $"(note {i % 997})" : "",
        }.Where(s => s.Length > 0));
}
