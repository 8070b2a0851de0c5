using Voxon.Events;
using Voxon.Memory;

namespace Voxon.Sessions;

public sealed partial class Session
{
    /// <summary>Merges memories older than <paramref name="keepRecentDays"/> into one summary per category (see <see cref="CompressMemoryAsync"/>).</summary>
    public MemoryCompression CompressMemory(int keepRecentDays = 7) =>
        CompressMemoryAsync(keepRecentDays).GetAwaiter().GetResult();

    /// <summary>
    /// Merges memories last updated more than <paramref name="keepRecentDays"/> ago into one summary entry per
    /// category, scope, sensitivity and expiry (a model summary when a model is configured, a deterministic merge offline; sensitive
    /// memories are always merged offline and never sent to the model). Single-valued
    /// facts (name, home...), importance-1.0 entries and memories that end with their conversation are kept as they are. The facts stay findable by search.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keepRecentDays"/> is negative.</exception>
    /// <exception cref="SessionStateException">The session is closed.</exception>
    public async Task<MemoryCompression> CompressMemoryAsync(int keepRecentDays = 7, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keepRecentDays);
        List<List<MemoryEntry>> groups;
        int before;
        lock (_gate)
        {
            ThrowIfClosed();
            var now = _runtime.Time.GetUtcNow();
            DropExpired(now);
            before = _memory.TokenCount;
            groups = MemoryCompressor.Groups(_memory.Live(now), now - TimeSpan.FromDays(keepRecentDays));
        }

        var compressor = new MemoryCompressor(_runtime.Engine.ChatClient, _logger);
        var summaries = new List<(List<MemoryEntry> Sources, string Text)>();
        foreach (var group in groups)
        {
            summaries.Add((group, await compressor.SummarizeAsync(group, cancellationToken)));
        }

        var vectors = await _runtime.EmbedAsync([.. summaries.Select(s => s.Text)], cancellationToken);
        var made = new List<MemoryEntry>();
        var replaced = new List<string>();
        int after;
        lock (_gate)
        {
            var now = _runtime.Time.GetUtcNow();
            for (var i = 0; i < summaries.Count; i++)
            {
                var (sources, text) = summaries[i];

                // A source removed or changed while the summary was being written keeps the group as it is.
                if (sources.Any(s => _memory.Find(s.Id) != s))
                {
                    continue;
                }

                foreach (var source in sources)
                {
                    _memory.Remove(source.Id);
                    replaced.Add(source.Id);
                }

                var summary = MemoryCompressor.SummaryOf(sources, text, now, vectors[i], _runtime.EmbeddingModelId);
                _memory.Put(summary);
                made.Add(summary);
            }

            after = _memory.TokenCount;
            if (made.Count > 0)
            {
                UpdatedAt = now;
            }
        }

        var result = new MemoryCompression([.. made.Select(m => m.Redacted())], replaced, before, after);
        if (made.Count > 0)
        {
            Raise(SessionEventNames.MemoryCompressed, result);
        }

        return result;
    }
}
