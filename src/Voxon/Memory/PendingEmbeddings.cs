using Microsoft.Extensions.Logging;
using Voxon.Diagnostics;
using Voxon.Memory.Search;

namespace Voxon.Memory;

/// <summary>
/// Embeds the facts a turn recorded after the turn, off its path: a fact is stored (and found by its words) at once,
/// and found by meaning a few milliseconds later, while the reply is spoken. Batches run one after another in the
/// background. <see cref="CompleteAsync"/> waits for them (saves, exports and closing call it), and embeds again what
/// failed; what still fails is stored without a vector and embedded by the next load.
/// </summary>
/// <param name="runtime">Embeds the texts.</param>
/// <param name="cache">The session's embedding cache.</param>
/// <param name="gate">Guards <paramref name="memory"/>.</param>
/// <param name="memory">The store the vectors go into.</param>
/// <param name="logger">Reports failed embeddings.</param>
internal sealed class PendingEmbeddings(VoxonRuntime runtime, EmbeddingCache cache, Lock gate, MemoryStore memory, ILogger logger)
{
    private readonly Lock _sync = new();
    private Task _tail = Task.CompletedTask;

    // Entries whose embedding failed, embedded again by the next CompleteAsync. Guarded by _sync.
    private readonly List<(string Id, string Content)> _failed = [];

    /// <summary>Embeds <paramref name="entries"/> (recorded without vectors) in the background, after any batch before them.</summary>
    public void Start(IReadOnlyList<MemoryEntry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        var texts = entries.Select(e => (e.Id, e.Content)).ToList();
        lock (_sync)
        {
            var previous = _tail;
            // Task.Run: the local model encodes synchronously, and the caller is the turn that must not wait for it.
            _tail = Task.Run(async () =>
            {
                await previous;
                await EmbedAsync(texts, CancellationToken.None);
            });
        }
    }

    /// <summary>Completes when every batch started so far is in the store; embeds again what failed before (once per call).</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the batches go on).</exception>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        Task tail;
        lock (_sync)
        {
            tail = _tail;
        }

        await tail.WaitAsync(cancellationToken);
        List<(string Id, string Content)> retry;
        lock (_sync)
        {
            retry = [.. _failed];
            _failed.Clear();
        }

        if (retry.Count > 0)
        {
            await EmbedAsync(retry, cancellationToken);
        }
    }

    /// <summary>Embeds and stores; never throws except on cancellation: a failure is logged, counted and kept for a retry.</summary>
    private async Task EmbedAsync(List<(string Id, string Content)> texts, CancellationToken cancellationToken)
    {
        IReadOnlyList<float[]> vectors;
        try
        {
            vectors = await runtime.EmbedAsync([.. texts.Select(t => t.Content)], cache, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Keep(texts);
            throw;
        }
        catch (Exception ex)
        {
            runtime.Telemetry.Add(VoxonTelemetry.EmbeddingFailures, texts.Count);
            logger.LogWarning(ex, "Embedding {Count} new memories failed; they are found by their words until a save or load embeds them.", texts.Count);
            Keep(texts);
            return;
        }

        lock (gate)
        {
            for (var i = 0; i < texts.Count; i++)
            {
                memory.SetEmbedding(texts[i].Id, texts[i].Content, vectors[i], runtime.EmbeddingModelId);
            }
        }
    }

    private void Keep(List<(string Id, string Content)> texts)
    {
        lock (_sync)
        {
            _failed.AddRange(texts);
        }
    }
}
