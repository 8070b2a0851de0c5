using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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

    // The length of the model's vectors: from the generator's metadata, else learned by DimensionsAsync; 0 until known.
    private int _dimensions = embeddings.GetService(typeof(EmbeddingGeneratorMetadata)) is EmbeddingGeneratorMetadata { DefaultModelDimensions: > 0 and var d } ? d : 0;

    /// <summary>The length of the model's vectors: from the generator's metadata, else learned once by embedding
    /// <paramref name="sample"/> (a generator that does not say it).</summary>
    public async ValueTask<int> DimensionsAsync(string sample, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _dimensions) is > 0 and var known)
        {
            return known;
        }

        var learned = (await EmbedAsync(sample, cancellationToken)).Length;
        Volatile.Write(ref _dimensions, learned);
        return learned;
    }

    /// <summary>
    /// Whether a memory's stored vector serves this runtime's searches as it is: it has one of the model's length (once
    /// known: <see cref="DimensionsAsync"/>), from the embedding model (memories from before model ids were stored were
    /// embedded by all-MiniLM-L6-v2), or from another precision of it that the local generator keeps
    /// (<see cref="Memory.Search.LocalEmbeddingGenerator.KeepsVectorsOf"/>). A vector of another length (another model
    /// the data does not name, or a forged name) would fail every search.
    /// </summary>
    public bool KeepsVector(Memory.MemoryEntry entry)
    {
        if (entry.Embedding.IsEmpty || (Volatile.Read(ref _dimensions) is > 0 and var dimensions && entry.Embedding.Length != dimensions))
        {
            return false;
        }

        var stored = entry.EmbeddingModel ?? Memory.Search.MiniLmEmbeddingGenerator.ModelId;
        return EmbeddingModelId is null
            || stored == EmbeddingModelId
            || (embeddings as Memory.Search.LocalEmbeddingGenerator)?.KeepsVectorsOf(stored) == true;
    }

    /// <summary>Loads what the first turn would otherwise wait for: a local embedding generator's models and the
    /// tokenizer. A remote generator is not called.</summary>
    public void WarmUp()
    {
        (embeddings as Memory.Search.LocalEmbeddingGenerator)?.WarmUp();
        Memory.TokenCounter.Count("warm up");
    }

    /// <summary>Whether the embedding generator is Voxon's local one (the only one a warm-up calls).</summary>
    public bool EmbedsLocally => embeddings is Memory.Search.LocalEmbeddingGenerator;

    /// <summary>Where this runtime's sessions record metrics and spans; nowhere for the warm-up's rehearsal.</summary>
    public Diagnostics.SessionTelemetry Telemetry { get; private init; } = Diagnostics.SessionTelemetry.Recorded;

    /// <summary>A runtime for the warm-up's rehearsal: this one's storage (which a rehearsal never saves to), weaver,
    /// embedding generator and search options, with the offline engine instead of the configured model, no logging, the
    /// system clock, and turns that are not counted or traced.</summary>
    public VoxonRuntime ForRehearsal() =>
        new(Storage, new VoxEngine(new OfflineChatClient(), NullLogger<VoxEngine>.Instance), Weaver, embeddings,
            TimeProvider.System, NullLoggerFactory.Instance)
        {
            SearchOptions = SearchOptions,
            Telemetry = Diagnostics.SessionTelemetry.Muted,
        };

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

    /// <summary>Texts each session remembers the embeddings of (<see cref="Memory.Search.EmbeddingCache"/>): about 100 KB,
    /// the recent phrases and facts of its conversations. Per session, so one user's words never shorten another's turn
    /// (a timing signal) and they go when the session does.</summary>
    internal const int SessionEmbeddingCacheCapacity = 64;

    /// <summary>Calls with more texts than this (re-embedding, compression) are bulk work nobody waits on turn by turn;
    /// they go to the model directly and leave the cache to the turns' words.</summary>
    internal const int MaxCachedBatch = 8;

    /// <summary>Embeds a document (a memory).</summary>
    public Task<float[]> EmbedAsync(string text, CancellationToken cancellationToken) => EmbedAsync(text, null, cancellationToken);

    /// <summary>Embeds a document (a memory), through <paramref name="cache"/> when given.</summary>
    public async Task<float[]> EmbedAsync(string text, Memory.Search.EmbeddingCache? cache, CancellationToken cancellationToken) =>
        (await EmbedAsync([text], query: false, cache, cancellationToken))[0];

    /// <summary>Embeds a search query: models trained with a query instruction (arctic-embed) get it; memories never do.</summary>
    public Task<float[]> EmbedQueryAsync(string text, CancellationToken cancellationToken) => EmbedQueryAsync(text, null, cancellationToken);

    /// <summary>Embeds a search query (see <see cref="EmbedQueryAsync(string, CancellationToken)"/>), through <paramref name="cache"/> when given.</summary>
    public async Task<float[]> EmbedQueryAsync(string text, Memory.Search.EmbeddingCache? cache, CancellationToken cancellationToken) =>
        (await EmbedAsync([text], query: true, cache, cancellationToken))[0];

    /// <summary>Embeds documents (memories), in order.</summary>
    public Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken) =>
        EmbedAsync(texts, query: false, cache: null, cancellationToken);

    /// <summary>Embeds documents (memories), in order, through <paramref name="cache"/> when given.</summary>
    public Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, Memory.Search.EmbeddingCache? cache, CancellationToken cancellationToken) =>
        EmbedAsync(texts, query: false, cache, cancellationToken);

    private async Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, bool query, Memory.Search.EmbeddingCache? cache, CancellationToken cancellationToken)
    {
        if (texts.Count == 0)
        {
            return [];
        }

        var options = query ? QueryOptions : null;
        if (cache is null || texts.Count > MaxCachedBatch)
        {
            var all = await embeddings.GenerateAsync(texts, options, cancellationToken);
            return [.. all.Select(e => e.Vector.ToArray())];
        }

        var vectors = new float[]?[texts.Count];
        List<string>? missing = null;
        for (var i = 0; i < texts.Count; i++)
        {
            if ((vectors[i] = cache.Get(texts[i], query)) is null)
            {
                (missing ??= []).Add(texts[i]);
            }
        }

        if (missing is null)
        {
            return vectors!;
        }

        var generated = await embeddings.GenerateAsync(missing, options, cancellationToken);
        for (int i = 0, next = 0; i < texts.Count; i++)
        {
            if (vectors[i] is null)
            {
                var vector = generated[next++].Vector.ToArray();
                cache.Add(texts[i], query, vector);
                vectors[i] = vector;
            }
        }

        return vectors!;
    }
}
