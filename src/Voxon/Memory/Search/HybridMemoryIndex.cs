namespace Voxon.Memory.Search;

// Interim index: replaced by the BM25 + vector implementation on the search branch.
internal sealed class HybridMemoryIndex
{
    private readonly Dictionary<string, (string[] Terms, float[] Vector)> _docs = new(StringComparer.Ordinal);

    public HybridMemoryIndex(HybridSearchOptions? options = null) => _ = options;

    public int Count => _docs.Count;

    public void Upsert(string id, string text, ReadOnlyMemory<float> embedding) =>
        _docs[id] = (Terms(text), embedding.ToArray());

    public bool Remove(string id) => _docs.Remove(id);

    public void Clear() => _docs.Clear();

    public IReadOnlyList<MemorySearchHit> Search(string query, ReadOnlyMemory<float> queryEmbedding, int topK, Func<string, bool>? filter = null, double minScore = 0)
    {
        var q = Terms(query);
        var hits = new List<MemorySearchHit>();
        foreach (var (id, doc) in _docs)
        {
            if (filter is not null && !filter(id))
            {
                continue;
            }

            double lexical = q.Length == 0 ? 0 : (double)q.Count(t => doc.Terms.Contains(t)) / q.Length;
            double semantic = 0;
            if (queryEmbedding.Length > 0 && doc.Vector.Length == queryEmbedding.Length)
            {
                var qs = queryEmbedding.Span;
                for (var i = 0; i < qs.Length; i++)
                {
                    semantic += qs[i] * doc.Vector[i];
                }
            }

            var score = queryEmbedding.Length > 0 ? (0.5 * lexical) + (0.5 * Math.Max(0, semantic)) : lexical;
            if (score > 0 && score >= minScore)
            {
                hits.Add(new MemorySearchHit(id, score, lexical, semantic));
            }
        }

        return hits.OrderByDescending(h => h.Score).Take(topK).ToList();
    }

    private static string[] Terms(string text) =>
        text.ToLowerInvariant().Split([' ', ',', '.', '?', '!', ';', ':', '\'', '"'], StringSplitOptions.RemoveEmptyEntries);
}

internal sealed class HybridSearchOptions;

/// <summary>One search result of the index.</summary>
public readonly record struct MemorySearchHit(string Id, double Score, double LexicalScore, double SemanticScore);
