using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers;

namespace Voxon.Memory.Search;

/// <summary>
/// An <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> that runs a sentence transformer shipped in a NuGet
/// package locally through ONNX Runtime, so nothing is downloaded: <see cref="ArcticXsEmbeddingGenerator"/>
/// (snowflake-arctic-embed-xs, the default) or <see cref="MiniLmEmbeddingGenerator"/> (all-MiniLM-L6-v2).
/// Vectors have <see cref="Dimensions"/> components and unit L2 norm, so the dot product of two of them is their
/// cosine similarity.
/// </summary>
/// <remarks>
/// <para>
/// Queries and documents: pass <see cref="QueryOptions"/> (or any options whose <see cref="EmbeddingGenerationOptions.AdditionalProperties"/>
/// hold <see cref="InputTypeKey"/> = <see cref="QueryInputType"/>) to embed search queries. Models trained with a
/// query instruction (arctic-embed) then prefix it; documents (memories) never get it.
/// </para>
/// <para>
/// Loading a model takes up to a second or two and some 90 MB (deriving an int8 model adds its quantization), so most
/// callers should use the process-wide <c>Shared</c> instance of each subclass. A model is loaded on its first use: the
/// documents' on the first document, the queries' (when it is another one) on the first query.
/// </para>
/// <para>
/// Thread-safety: <see cref="GenerateAsync"/> may be called concurrently from any number of threads.
/// <see cref="Dispose"/> must not race with a call in progress (it releases the native session).
/// Disposing a shared instance does nothing, so code that receives it as an <see cref="IEmbeddingGenerator"/>
/// may dispose it as usual.
/// </para>
/// <para>
/// Embedding is CPU-bound and runs synchronously on the calling thread (bulk work also on the thread pool); the
/// returned task is already completed. A short query takes a few milliseconds on two cores.
/// </para>
/// </remarks>
public abstract class LocalEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The number of components in every vector.</summary>
    public const int Dimensions = 384;

    /// <summary>The key in <see cref="EmbeddingGenerationOptions.AdditionalProperties"/> that says what the inputs are.</summary>
    public const string InputTypeKey = "input_type";

    /// <summary>The <see cref="InputTypeKey"/> value for search queries.</summary>
    public const string QueryInputType = "query";

    // Inputs are padded to the longest text of a batch, so a bounded batch keeps tensors small and
    // gives cancellation a point to take effect between batches.
    private const int MaxBatchSize = 32;

    private readonly bool _isShared;
    private readonly string? _queryPrefix;
    private readonly EmbeddingGeneratorMetadata _metadata;
    private readonly Lazy<ISentenceEncoder> _documentEncoder;
    private readonly Lazy<ISentenceEncoder> _queryEncoder;
    private volatile bool _disposed;

    /// <summary>Options that mark the inputs as search queries.</summary>
    public static EmbeddingGenerationOptions QueryOptions { get; } =
        new() { AdditionalProperties = new() { [InputTypeKey] = QueryInputType } };

    /// <param name="providerName">The provider name in the metadata.</param>
    /// <param name="modelId">The id of the model that embeds documents: stored with each memory's embedding.</param>
    /// <param name="queryPrefix">The instruction put before queries, if the model was trained with one.</param>
    /// <param name="createDocumentEncoder">Loads the encoder for documents (on first use).</param>
    /// <param name="createQueryEncoder">Loads the encoder for queries, when it differs from the documents' (a quantized
    /// copy of the same model, whose vectors live in the same space); null to embed queries with the document encoder.</param>
    /// <param name="isShared">Whether the encoders are process-wide, so <see cref="Dispose"/> leaves them alone.</param>
    private protected LocalEmbeddingGenerator(
        string providerName,
        string modelId,
        string? queryPrefix,
        Func<ISentenceEncoder> createDocumentEncoder,
        Func<ISentenceEncoder>? createQueryEncoder,
        bool isShared)
    {
        ModelId = modelId;
        _queryPrefix = queryPrefix;
        _isShared = isShared;
        _metadata = new(providerName, providerUri: null, defaultModelId: modelId, defaultModelDimensions: Dimensions);
        _documentEncoder = new(createDocumentEncoder, LazyThreadSafetyMode.ExecutionAndPublication);
        _queryEncoder = createQueryEncoder is null ? _documentEncoder : new(createQueryEncoder, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The model id reported in <see cref="EmbeddingGeneratorMetadata"/> and on each embedding.</summary>
    public string ModelId { get; }

    /// <summary>
    /// The local generator for a model name: <c>minilm</c> (or <c>all-MiniLM-L6-v2</c>); <c>arctic-xs</c> (or
    /// <c>snowflake-arctic-embed-xs</c>: int8 throughout, documents under <see cref="ArcticXsEmbeddingGenerator.Int8ModelId"/>;
    /// also <c>arctic-xs-int8</c>); <c>arctic-xs-fp32</c> (float32 throughout).
    /// </summary>
    /// <exception cref="ArgumentException">The name is none of those.</exception>
    public static LocalEmbeddingGenerator ForModel(string name) => name.ToLowerInvariant() switch
    {
        "minilm" or "all-minilm-l6-v2" => MiniLmEmbeddingGenerator.Shared,
        "arctic-xs" or "arcticxs" or "snowflake-arctic-embed-xs" or "arctic-xs-int8" or "snowflake-arctic-embed-xs-int8" => ArcticXsEmbeddingGenerator.Shared,
        "arctic-xs-fp32" => ArcticXsEmbeddingGenerator.SharedFor(EncoderPrecision.Float32, EncoderPrecision.Float32),
        _ => throw new ArgumentException($"Unknown embedding model '{name}'; use minilm, arctic-xs, arctic-xs-fp32 or arctic-xs-int8.", nameof(name)),
    };

    /// <summary>
    /// Whether a memory embedded by <paramref name="modelId"/>, another than <see cref="ModelId"/>, keeps its vector
    /// when a session loads, rather than being embedded again: true only for another precision of the same model.
    /// </summary>
    internal virtual bool KeepsVectorsOf(string modelId) => false;

    /// <summary>Generates one normalized 384-dimensional embedding per input text, in input order.</summary>
    /// <param name="values">The texts to embed. Texts longer than the model's window are truncated by the tokenizer.</param>
    /// <param name="options">Optional settings; <see cref="EmbeddingGenerationOptions.Dimensions"/>, if set, must be 384; see <see cref="QueryOptions"/>.</param>
    /// <param name="cancellationToken">Cancels the work between batches and inside the ONNX run.</param>
    /// <returns>A completed task holding the embeddings.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> or one of its elements is null.</exception>
    /// <exception cref="NotSupportedException">A dimension count other than 384 was requested.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">This (non-shared) instance was disposed.</exception>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is int requested && requested != Dimensions)
        {
            throw new NotSupportedException($"{ModelId} produces {Dimensions}-dimensional embeddings; {requested} were requested.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<string> texts = values as IReadOnlyList<string> ?? values.ToArray();
        if (_queryPrefix is not null && IsQuery(options))
        {
            texts = [.. texts.Select((t, i) => _queryPrefix + (t ?? throw new ArgumentNullException(nameof(values), $"Text at index {i} is null.")))];
        }

        var vectors = Embed(IsQuery(options) ? _queryEncoder : _documentEncoder, texts, cancellationToken);
        var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Length);
        foreach (var vector in vectors)
        {
            result.Add(new Embedding<float>(vector) { ModelId = ModelId });
        }

        return Task.FromResult(result);
    }

    /// <summary>Whether the models that embed documents and queries are both loaded.</summary>
    public bool IsLoaded => _documentEncoder.IsValueCreated && _queryEncoder.IsValueCreated;

    /// <summary>
    /// Loads the models for documents and queries now, and runs each once (ONNX Runtime sizes its buffers on the first
    /// run), so that the first search does not wait for them: about a second, since the int8 query model is derived at
    /// load. <see cref="VoxonClient.WarmUpAsync"/> calls it on a background thread.
    /// </summary>
    /// <exception cref="ObjectDisposedException">This (non-shared) instance was disposed.</exception>
    public void WarmUp()
    {
        string[] text = ["warm up"];
        Embed(_documentEncoder, text, CancellationToken.None);
        Embed(_queryEncoder, text, CancellationToken.None);
    }

    private static bool IsQuery(EmbeddingGenerationOptions? options) =>
        options?.AdditionalProperties?.TryGetValue(InputTypeKey, out var kind) == true
        && string.Equals(kind?.ToString(), QueryInputType, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Embeds <paramref name="texts"/> as documents, synchronously; the vectors are unit length. Batches hold texts of
    /// similar length (sorted first, so little padding is computed) and run on up to two threads.
    /// </summary>
    internal float[][] Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        Embed(_documentEncoder, texts, cancellationToken);

    private float[][] Embed(Lazy<ISentenceEncoder> model, IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var encoder = model.Value;
        for (var i = 0; i < texts.Count; i++)
        {
            if (texts[i] is null)
            {
                throw new ArgumentNullException(nameof(texts), $"Text at index {i} is null.");
            }
        }

        var vectors = new float[texts.Count][];
        if (texts.Count <= MaxBatchSize)
        {
            Encode(encoder, texts, [.. Enumerable.Range(0, texts.Count)], vectors, cancellationToken);
            return vectors;
        }

        var byLength = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
        var batches = byLength.Chunk(MaxBatchSize).ToArray();
        try
        {
            Parallel.ForEach(
                batches,
                new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount, 1, 2), CancellationToken = cancellationToken },
                batch => Encode(encoder, texts, batch, vectors, cancellationToken));
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
        }

        return vectors;
    }

    private static void Encode(ISentenceEncoder encoder, IReadOnlyList<string> texts, int[] batch, float[][] vectors, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var input = new string[batch.Length];
        for (var i = 0; i < batch.Length; i++)
        {
            input[i] = texts[batch[i]];
        }

        float[][] encoded;
        try
        {
            encoded = encoder.Encode(input, cancellationToken);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            // The encoder turns the token into an ONNX run termination, which surfaces as a native error.
            throw new OperationCanceledException(cancellationToken);
        }

        for (var i = 0; i < batch.Length; i++)
        {
            vectors[batch[i]] = encoded[i];
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return _metadata;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Releases the native model of an instance created with a public constructor; does nothing on a shared instance.</summary>
    public void Dispose()
    {
        if (_isShared || _disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var encoder in new[] { _documentEncoder, _queryEncoder }.Distinct())
        {
            if (encoder.IsValueCreated)
            {
                (encoder.Value as IDisposable)?.Dispose();
            }
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Creates the ONNX Runtime options every local encoder runs with; the encoder owns (disposes) them.</summary>
    internal static SessionOptions CreateSessionOptions()
    {
        // Measured on two cores: two intra-op threads with spinning off gave the lowest single-query latency
        // (~4.4 ms vs ~5.6 ms single-threaded); spinning only burned CPU between the short runs of a voice turn.
        // More than four threads does not help a 6-layer model on short inputs.
        var options = new SessionOptions
        {
            IntraOpNumThreads = Math.Clamp(Environment.ProcessorCount, 1, 4),
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }

    /// <summary>Creates an encoder that takes <see cref="CreateSessionOptions"/> and owns them from then on.</summary>
    internal static ISentenceEncoder WithSessionOptions(Func<SessionOptions, ISentenceEncoder> create)
    {
        var options = CreateSessionOptions();
        try
        {
            return create(options);
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }
}
