using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Voxon.Context;
using Voxon.Engine;
using Voxon.Memory;
using Voxon.Storage;

namespace Voxon;

/// <summary>The services a <see cref="VoxonClient"/> shares with its sessions.</summary>
internal sealed class VoxonRuntime(
    SessionStorage storage,
    VoxEngine engine,
    ContextWeaver weaver,
    IEmbeddingGenerator<string, Embedding<float>> embeddings,
    TimeProvider time,
    ILoggerFactory loggerFactory)
{
    /// <summary>Asks an embedding generator to embed a search query rather than a document (see <see cref="Memory.Search.LocalEmbeddingGenerator"/>).</summary>
    private static readonly EmbeddingGenerationOptions QueryOptions = Memory.Search.LocalEmbeddingGenerator.QueryOptions;

    public SessionStorage Storage { get; } = storage;

    public VoxEngine Engine { get; } = engine;

    public ContextWeaver Weaver { get; } = weaver;

    public TimeProvider Time { get; } = time;

    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    /// <summary>Per-category memory lifetimes (<see cref="VoxonOptions.MemoryTtl"/>).</summary>
    public Retention.MemoryTtlPolicy MemoryTtl { get; init; } = Retention.MemoryTtlPolicy.None;

    /// <summary>The idle timeout of open sessions (<see cref="VoxonOptions.SessionTimeout"/>); null for none.</summary>
    public TimeSpan? SessionTimeout { get; init; }

    /// <summary>How memory search ranks; validated and copied by each index.</summary>
    public Memory.Search.HybridSearchOptions SearchOptions { get; init; } = new();

    /// <summary>The id of the embedding model, stored with each embedding; null when the generator does not say.</summary>
    public string? EmbeddingModelId { get; } =
        embeddings.GetService(typeof(EmbeddingGeneratorMetadata)) is EmbeddingGeneratorMetadata metadata ? metadata.DefaultModelId : null;

    /// <summary>The model-based extractor when a model is configured and allowed to extract; null means the offline rules.</summary>
    public ChatMemoryExtractor? Extractor { get; init; }

    /// <summary>Model-based topic and satisfaction analysis when a model is configured; null offline.</summary>
    public Analytics.ChatInsightAnalyzer? InsightAnalyzer { get; init; }

    /// <summary>The realtime endpoint voice conversations use when they name none; null when none is configured.</summary>
    public Engine.Realtime.RealtimeOptions? Realtime { get; init; }

    /// <summary>Functions every session with functions enabled offers to the model.</summary>
    public IReadOnlyList<AITool> Tools { get; init; } = [];

    /// <summary>Client-wide share events (share.created, share.revoked, share.accessed).</summary>
    public Events.SessionEvents ShareEvents { get; } = new(loggerFactory.CreateLogger("Voxon.Sharing"));

    public async Task<float[]> EmbedAsync(string text, CancellationToken cancellationToken)
    {
        var result = await embeddings.GenerateAsync([text], cancellationToken: cancellationToken);
        return result[0].Vector.ToArray();
    }

    /// <summary>Embeds a search query: models trained with a query instruction (arctic-embed) get it; memories never do.</summary>
    public async Task<float[]> EmbedQueryAsync(string text, CancellationToken cancellationToken)
    {
        var result = await embeddings.GenerateAsync([text], QueryOptions, cancellationToken);
        return result[0].Vector.ToArray();
    }

    public async Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        if (texts.Count == 0)
        {
            return [];
        }

        var result = await embeddings.GenerateAsync(texts, cancellationToken: cancellationToken);
        return [.. result.Select(e => e.Vector.ToArray())];
    }
}
