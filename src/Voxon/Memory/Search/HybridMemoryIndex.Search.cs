using System.Buffers;
using System.Numerics.Tensors;

namespace Voxon.Memory.Search;

internal sealed partial class HybridMemoryIndex
{
    /// <summary>Finds the memories most relevant to <paramref name="query"/>, best first.</summary>
    /// <param name="query">The query text, matched lexically.</param>
    /// <param name="queryEmbedding">The query's embedding from the same model as the memories', or empty for a lexical-only search.</param>
    /// <param name="topK">The most hits to return; 0 returns none.</param>
    /// <param name="filter">
    /// Called with a memory id; memories it rejects are left out before ranking, so they take no rank from the others.
    /// Called at most once per memory and search, and only for candidates (lexical matches or memories above the semantic floor).
    /// </param>
    /// <param name="minScore">Hits with a fused <see cref="MemorySearchHit.Score"/> below this (0..1) are dropped; see <see cref="HybridSearchOptions"/> for what the score means.</param>
    /// <returns>At most <paramref name="topK"/> hits, by descending score, ties broken by ordinal id.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="topK"/> is negative or <paramref name="minScore"/> is NaN.</exception>
    /// <exception cref="ArgumentException"><paramref name="queryEmbedding"/>'s length differs from the index's <see cref="Dimensions"/>.</exception>
    public IReadOnlyList<MemorySearchHit> Search(
        string query,
        ReadOnlyMemory<float> queryEmbedding,
        int topK,
        Func<string, bool>? filter = null,
        double minScore = 0)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        if (double.IsNaN(minScore))
        {
            throw new ArgumentOutOfRangeException(nameof(minScore), "minScore must be a number.");
        }

        var semantic = !queryEmbedding.IsEmpty && _dimensions != 0;
        if (semantic && queryEmbedding.Length != _dimensions)
        {
            throw new ArgumentException(
                $"Query embedding has {queryEmbedding.Length} dimensions; this index holds {_dimensions}-dimensional embeddings.", nameof(queryEmbedding));
        }

        var queryTerms = SearchTokenizer.Tokenize(query);
        if (topK == 0 || Count == 0 || (queryTerms.Count == 0 && !semantic))
        {
            return [];
        }

        var window = Math.Max(_options.CandidateWindow, topK);
        var bm25 = ArrayPool<double>.Shared.Rent(Count);
        var cosine = ArrayPool<float>.Shared.Rent(Count);
        var verdicts = ArrayPool<Verdict>.Shared.Rent(Count);
        try
        {
            Array.Clear(bm25, 0, Count);
            Array.Clear(cosine, 0, Count);
            Array.Clear(verdicts, 0, Count);
            var admit = new Admission(filter, _documents, verdicts);
            var lexicalRanking = queryTerms.Count == 0 ? [] : RankLexical(queryTerms, bm25, admit, window);
            var semanticRanking = semantic ? RankSemantic(queryEmbedding.Span, cosine, admit, window) : [];

            var maxFused = ((queryTerms.Count > 0 ? _options.LexicalWeight : 0) + (semantic ? _options.SemanticWeight : 0))
                / (_options.RrfK + 1);
            var fused = new Dictionary<int, double>(lexicalRanking.Length + semanticRanking.Length);
            Fuse(fused, lexicalRanking, _options.LexicalWeight);
            Fuse(fused, semanticRanking, _options.SemanticWeight);

            var best = new TopScores(topK, _documents);
            foreach (var (slot, value) in fused)
            {
                if (value > 0 && Normalize(value) >= minScore)
                {
                    best.Offer(slot, value);
                }
            }

            var slots = best.DrainBestFirst();
            var hits = new MemorySearchHit[slots.Length];
            for (var i = 0; i < slots.Length; i++)
            {
                var slot = slots[i];
                hits[i] = new MemorySearchHit(_documents[slot].Id, Normalize(fused[slot]), bm25[slot], cosine[slot]);
            }

            return hits;

            // value > 0 implies a positive weight for a signal the query used, hence maxFused > 0.
            double Normalize(double value) => Math.Min(1, value / maxFused);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(bm25);
            ArrayPool<float>.Shared.Return(cosine);
            ArrayPool<Verdict>.Shared.Return(verdicts);
        }
    }

    private void Fuse(Dictionary<int, double> fused, int[] ranking, double weight)
    {
        for (var rank = 0; rank < ranking.Length; rank++)
        {
            fused[ranking[rank]] = fused.GetValueOrDefault(ranking[rank]) + (weight / (_options.RrfK + rank + 1));
        }
    }

    /// <summary>Scores BM25 into <paramref name="scores"/> (by slot) for admitted documents and returns the best slots.</summary>
    private int[] RankLexical(List<string> queryTerms, double[] scores, Admission admit, int window)
    {
        double n = Count;
        var averageLength = Math.Max(1, _totalLength / n);
        var k1 = _options.K1;
        var b = _options.B;
        var touched = new List<int>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var term in queryTerms)
        {
            // A repeated query word counts once: short queries repeat words by accident, not for emphasis.
            if (!seen.Add(term) || !_termIds.TryGetValue(term, out var termId))
            {
                continue;
            }

            var posting = _postings[termId]!;
            var idf = Math.Log(1 + ((n - posting.Count + 0.5) / (posting.Count + 0.5)));
            foreach (var (slot, frequency) in posting)
            {
                if (!admit.Passes(slot))
                {
                    continue;
                }

                if (scores[slot] == 0)
                {
                    touched.Add(slot);
                }

                var norm = k1 * (1 - b + (b * _documents[slot].Length / averageLength));
                scores[slot] += idf * frequency * (k1 + 1) / (frequency + norm);
            }
        }

        var best = new TopScores(window, _documents);
        foreach (var slot in touched)
        {
            best.Offer(slot, scores[slot]);
        }

        return best.DrainBestFirst();
    }

    /// <summary>Computes cosine similarities into <paramref name="similarities"/> (by slot) and returns the best admitted slots at or above the floor.</summary>
    private int[] RankSemantic(ReadOnlySpan<float> query, float[] similarities, Admission admit, int window)
    {
        var queryNorm = TensorPrimitives.Norm(query);
        if (!(queryNorm > 0) || !float.IsFinite(queryNorm))
        {
            return [];
        }

        var dimensions = _dimensions;
        var floor = _options.SemanticFloor;
        var vectors = _vectors.AsSpan(0, Count * dimensions);
        var best = new TopScores(window, _documents);
        for (var slot = 0; slot < Count; slot++)
        {
            if (!_documents[slot].HasVector)
            {
                continue;
            }

            var similarity = TensorPrimitives.Dot(vectors.Slice(slot * dimensions, dimensions), query) / queryNorm;
            similarities[slot] = similarity;
            if (similarity >= floor && admit.Passes(slot))
            {
                best.Offer(slot, similarity);
            }
        }

        return best.DrainBestFirst();
    }

    private enum Verdict : byte
    {
        Unknown,
        Admitted,
        Rejected,
    }

    /// <summary>Memoizes the caller's filter per slot for one search, so each memory is judged at most once.</summary>
    private readonly struct Admission(Func<string, bool>? filter, Document[] documents, Verdict[] verdicts)
    {
        public bool Passes(int slot)
        {
            if (filter is null)
            {
                return true;
            }

            var verdict = verdicts[slot];
            if (verdict == Verdict.Unknown)
            {
                verdict = filter(documents[slot].Id) ? Verdict.Admitted : Verdict.Rejected;
                verdicts[slot] = verdict;
            }

            return verdict == Verdict.Admitted;
        }
    }

    /// <summary>Keeps the best N slots by score; equal scores are ordered by ordinal id so results do not depend on slot order.</summary>
    private sealed class TopScores : IComparer<(double Score, string Id)>
    {
        private readonly int _capacity;
        private readonly Document[] _documents;
        private readonly PriorityQueue<int, (double Score, string Id)> _worstFirst;

        public TopScores(int capacity, Document[] documents)
        {
            _capacity = capacity;
            _documents = documents;
            _worstFirst = new(Math.Min(capacity, 1024) + 1, this);
        }

        public void Offer(int slot, double score)
        {
            var entry = (score, _documents[slot].Id);
            if (_worstFirst.Count < _capacity)
            {
                _worstFirst.Enqueue(slot, entry);
            }
            else if (_capacity > 0 && _worstFirst.TryPeek(out _, out var worst) && Compare(entry, worst) > 0)
            {
                _worstFirst.DequeueEnqueue(slot, entry);
            }
        }

        public int Compare((double Score, string Id) x, (double Score, string Id) y)
        {
            var byScore = x.Score.CompareTo(y.Score);
            return byScore != 0 ? byScore : string.CompareOrdinal(y.Id, x.Id);
        }

        public int[] DrainBestFirst()
        {
            var slots = new int[_worstFirst.Count];
            for (var i = slots.Length - 1; i >= 0; i--)
            {
                slots[i] = _worstFirst.Dequeue();
            }

            return slots;
        }
    }
}
