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
    public SessionStorage Storage { get; } = storage;

    public VoxEngine Engine { get; } = engine;

    public ContextWeaver Weaver { get; } = weaver;

    public TimeProvider Time { get; } = time;

    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    /// <summary>The model-based extractor when a model is configured and allowed to extract; null means the offline rules.</summary>
    public ChatMemoryExtractor? Extractor { get; init; }

    /// <summary>Model-based topic and satisfaction analysis when a model is configured; null offline.</summary>
    public Analytics.ChatInsightAnalyzer? InsightAnalyzer { get; init; }

    /// <summary>Functions every session with functions enabled offers to the model.</summary>
    public IReadOnlyList<AITool> Tools { get; init; } = [];

    /// <summary>Client-wide share events (share.created, share.revoked, share.accessed).</summary>
    public Events.SessionEvents ShareEvents { get; } = new(loggerFactory.CreateLogger("Voxon.Sharing"));

    public async Task<float[]> EmbedAsync(string text, CancellationToken cancellationToken)
    {
        var result = await embeddings.GenerateAsync([text], cancellationToken: cancellationToken);
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
