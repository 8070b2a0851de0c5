using System.Buffers;
using System.Numerics.Tensors;

namespace Voxon.Memory.Search;

internal sealed partial class HybridMemoryIndex
{
    /// <summary>How many times the candidate window the approximate scan shortlists for float32 rescoring when a filter or
    /// the floor leaves too few above the window's edge; an index up to four times that is scanned in float32.</summary>
    private const int RescoreDepth = 3;

    /// <summary>
    /// How far below the semantic floor, or the window's last exact score, an approximate score may be and still be
    /// rescored: several times the error of an int8 or float16 cosine of normalized vectors.
    /// </summary>
    private const float ApproximationMargin = 0.02f;

    /// <summary>The share of a large index (one in this many memories) that the sign-code prefilter keeps for the compact scan.</summary>
    private const int PrefilterShare = 16;

    /// <summary>The fewest memories the prefilter keeps, in candidate windows.</summary>
    private const int PrefilterFloor = 4;

    /// <summary>Finds the memories most relevant to <paramref name="query"/>, best first.</summary>
    /// <param name="query">The query text, matched lexically.</param>
    /// <param name="queryEmbedding">The query's embedding from the same model as the memories', or empty for a lexical-only search.</param>
    /// <param name="topK">The most hits to return; 0 returns none.</param>
    /// <param name="filter">
    /// Called with a memory id; memories it rejects are left out before ranking, so they take no rank from the others.
    /// Called at most once per memory and search, and only for candidates (lexical matches, and memories whose scanned
    /// similarity is at or near the semantic floor and high enough to be shortlisted).
    /// </param>
    /// <param name="minScore">Hits with a fused <see cref="MemorySearchHit.Score"/> below this (0..1) are dropped; see <see cref="HybridSearchOptions"/> for what the score means.</param>
    /// <param name="time">What the query asks about time (<see cref="TimeFocus.Parse"/>), or null.</param>
    /// <returns>
    /// At most <paramref name="topK"/> hits, best first: by descending score, ties broken by ordinal id; with
    /// <see cref="HybridSearchOptions.Diversity"/>, a hit much like one ranked above it may move down.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="topK"/> is negative or <paramref name="minScore"/> is NaN.</exception>
    /// <exception cref="ArgumentException"><paramref name="queryEmbedding"/>'s length differs from the index's <see cref="Dimensions"/>.</exception>
    public IReadOnlyList<MemorySearchHit> Search(
        string query,
        ReadOnlyMemory<float> queryEmbedding,
        int topK,
        Func<string, bool>? filter = null,
        double minScore = 0,
        TimeFocus? time = null) =>
        Find(query, queryEmbedding, topK, filter is null ? null : slot => filter(_documents[slot].Id), minScore, time);

    /// <summary>
    /// As <see cref="Search(string, ReadOnlyMemory{float}, int, Func{string, bool}?, double, TimeFocus?)"/>, with
    /// <paramref name="filter"/> called with the tag each memory was upserted with instead of its id: a caller that keeps
    /// its memories by id is spared a lookup per candidate, each of them rarely in the cache.
    /// </summary>
    public IReadOnlyList<MemorySearchHit> SearchTagged(
        string query,
        ReadOnlyMemory<float> queryEmbedding,
        int topK,
        Func<object?, bool> filter,
        double minScore = 0,
        TimeFocus? time = null) =>
        Find(query, queryEmbedding, topK, filter is null ? throw new ArgumentNullException(nameof(filter)) : slot => filter(_documents[slot].Tag), minScore, time);

    // Search and SearchTagged: the filter judges a slot, by its memory's id or tag.
    private IReadOnlyList<MemorySearchHit> Find(
        string query,
        ReadOnlyMemory<float> queryEmbedding,
        int topK,
        Func<int, bool>? filter,
        double minScore,
        TimeFocus? time)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        if (double.IsNaN(minScore))
        {
            throw new ArgumentOutOfRangeException(nameof(minScore), "minScore must be a number.");
        }

        var semantic = !queryEmbedding.IsEmpty && Dimensions != 0;
        if (semantic && queryEmbedding.Length != Dimensions)
        {
            throw new ArgumentException(
                $"Query embedding has {queryEmbedding.Length} dimensions; this index holds {Dimensions}-dimensional embeddings.", nameof(queryEmbedding));
        }

        var plain = semantic ? _vectors.Prepare(queryEmbedding.Span) : null;
        var prepared = plain is not null && _options.Centering > 0 && _vectorCount > 0
            ? _vectors.Centred(plain, _vectorSum, _vectorCount, _options.Centering)
            : plain;

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
            if (prepared is null)
            {
                // Otherwise the scan writes every slot, or the sign prefilter clears them (RankSemantic).
                Array.Clear(cosine, 0, Count);
            }

            Array.Clear(verdicts, 0, Count);
            var admit = new Admission(filter, verdicts);
            var lexicalRanking = queryTerms.Count == 0 ? [] : RankLexical(queryTerms, bm25, admit, window);
            HashSet<int>? rescored = null;
            var semanticRanking = prepared is null ? [] : RankSemantic(prepared, cosine, admit, window, out rescored);
            if (rescored is not null)
            {
                // The scan left approximate similarities; the semantic candidates are rescored, the lexical ones not yet.
                foreach (var slot in lexicalRanking)
                {
                    if (rescored.Add(slot))
                    {
                        cosine[slot] = Exact(prepared!, slot);
                    }
                }
            }

            var lexicalWeight = queryTerms.Count > 0 ? _options.LexicalWeight : 0;
            var semanticWeight = semantic ? _options.SemanticWeight : 0;
            var fused = _options.Fusion == FusionMethod.ReciprocalRank
                ? FuseRanks(lexicalRanking, semanticRanking, lexicalWeight, semanticWeight)
                : FuseScores(lexicalRanking, semanticRanking, bm25, cosine, lexicalWeight, semanticWeight, window, time?.HasSpan == true ? time : null, admit, prepared?.Shift ?? 0, rescored is null ? null : prepared);
            if (time is not null)
            {
                WeighByTime(fused, time);
            }

            var slots = _options.Diversity > 0 && semantic
                ? Diversify(fused, topK, minScore)
                : Best(fused, topK, minScore);
            var hits = new MemorySearchHit[slots.Length];
            for (var i = 0; i < slots.Length; i++)
            {
                var slot = slots[i];
                // A centred query's similarities ranked the memories; the hit reports the plain cosine.
                var similarity = plain is null ? 0 : prepared == plain ? cosine[slot] : Exact(plain, slot);
                hits[i] = new MemorySearchHit(_documents[slot].Id, fused[slot], bm25[slot], similarity);
            }

            return hits;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(bm25);
            ArrayPool<float>.Shared.Return(cosine);
            ArrayPool<Verdict>.Shared.Return(verdicts);
        }
    }

    private int[] Best(Dictionary<int, double> fused, int topK, double minScore)
    {
        var best = new TopScores(topK, _documents);
        foreach (var (slot, value) in fused)
        {
            if (value > 0 && value >= minScore)
            {
                best.Offer(slot, value);
            }
        }

        return best.DrainBestFirst();
    }

    /// <summary>Reciprocal rank fusion, divided by the best value the query could reach so it reads 0..1.</summary>
    private Dictionary<int, double> FuseRanks(int[] lexical, int[] semantic, double lexicalWeight, double semanticWeight)
    {
        // A positive value implies a positive weight for a signal the query used, hence a positive maximum.
        var max = (lexicalWeight + semanticWeight) / (_options.RrfK + 1);
        var fused = new Dictionary<int, double>(lexical.Length + semantic.Length);
        Add(lexical, lexicalWeight);
        Add(semantic, semanticWeight);
        return fused;

        void Add(int[] ranking, double weight)
        {
            for (var rank = 0; rank < ranking.Length; rank++)
            {
                fused[ranking[rank]] = Math.Min(1, fused.GetValueOrDefault(ranking[rank]) + (weight / (_options.RrfK + rank + 1) / max));
            }
        }
    }

    /// <summary>
    /// Normalized weighted fusion over the union of both candidate lists (and, for a question about a span of days,
    /// the memories in that span): BM25 over the best BM25, cosine min-max scaled over the semantic candidates,
    /// averaged with the weights of the signals the query used. 0..1. <paramref name="shift"/> is the query's
    /// <see cref="VectorQuery.Shift"/>; <paramref name="approximate"/> is the query when <paramref name="cosine"/> holds
    /// approximate similarities outside the candidates (memories in the span are then rescored).
    /// </summary>
    private Dictionary<int, double> FuseScores(
        int[] lexical, int[] semantic, double[] bm25, float[] cosine, double lexicalWeight, double semanticWeight, int window, TimeFocus? span, Admission admit, float shift, VectorQuery? approximate)
    {
        var bestBm25 = lexical.Length > 0 ? bm25[lexical[0]] : 0;
        var high = semantic.Length > 0 ? cosine[semantic[0]] : 0;

        // The scale's bottom is the last candidate of a full window; when every memory above the floor is a
        // candidate, the floor itself, so that the weakest of a few candidates still counts.
        var low = semantic.Length == window ? cosine[semantic[^1]] : _options.SemanticFloor - shift;
        var total = lexicalWeight + semanticWeight;
        var fused = new Dictionary<int, double>(lexical.Length + semantic.Length);
        foreach (var slot in lexical)
        {
            fused[slot] = Score(slot);
        }

        foreach (var slot in semantic)
        {
            fused[slot] = Score(slot);
        }

        if (span is not null)
        {
            for (var slot = 0; slot < Count; slot++)
            {
                var time = _documents[slot].Time;
                if (time.IsKnown && !fused.ContainsKey(slot) && span.InSpan(time.Start, time.End) && admit.Passes(slot))
                {
                    if (approximate is not null)
                    {
                        cosine[slot] = Exact(approximate, slot);
                    }

                    fused[slot] = Score(slot);
                }
            }
        }

        return fused;

        double Score(int slot)
        {
            var lexicalPart = bestBm25 > 0 ? bm25[slot] / bestBm25 : 0;
            var semanticPart = semantic.Length == 0 ? 0
                : high > low ? Math.Clamp((cosine[slot] - low) / (high - low), 0, 1)
                : cosine[slot] >= high ? 1 : 0;
            return total > 0 ? ((lexicalWeight * lexicalPart) + (semanticWeight * semanticPart)) / total : 0;
        }
    }

    /// <summary>
    /// For a "when" question, memories whose text states a date rise; for a question about a span of days,
    /// memories in that span rise. Scaled back so that scores stay within 0..1.
    /// </summary>
    private void WeighByTime(Dictionary<int, double> fused, TimeFocus time)
    {
        var boost = 1 + _options.TimeBoost;
        var most = (time.AsksWhen ? boost : 1) * (time.HasSpan ? boost : 1);
        foreach (var slot in fused.Keys)
        {
            var document = _documents[slot].Time;
            var factor = 1.0;
            if (time.AsksWhen && document.Stated)
            {
                factor *= boost;
            }

            if (time.HasSpan && document.IsKnown && time.InSpan(document.Start, document.End))
            {
                factor *= boost;
            }

            fused[slot] = fused[slot] * factor / most;
        }
    }

    /// <summary>
    /// Maximal marginal relevance over the best candidates: each pick trades score against similarity to the
    /// hits already picked, so two facts about different things both make the top k instead of two wordings of one.
    /// </summary>
    private int[] Diversify(Dictionary<int, double> fused, int topK, double minScore)
    {
        var pool = new List<int>(Best(fused, Math.Max(topK * 3, 30), minScore));
        var lambda = 1 - _options.Diversity;
        var picked = new List<int>(Math.Min(topK, pool.Count));
        var closest = new float[pool.Count];
        while (picked.Count < topK && pool.Count > 0)
        {
            var bestIndex = 0;
            var bestValue = double.NegativeInfinity;
            for (var i = 0; i < pool.Count; i++)
            {
                var value = (lambda * fused[pool[i]]) - ((1 - lambda) * closest[i]);
                if (value > bestValue)
                {
                    (bestIndex, bestValue) = (i, value);
                }
            }

            var chosen = pool[bestIndex];
            picked.Add(chosen);
            pool.RemoveAt(bestIndex);
            Array.Copy(closest, bestIndex + 1, closest, bestIndex, pool.Count - bestIndex);
            for (var i = 0; i < pool.Count; i++)
            {
                closest[i] = Math.Max(closest[i], Similarity(chosen, pool[i]));
            }
        }

        return [.. picked];
    }

    // Slots without a vector hold zeros, so they are 0 apart from anything.
    private float Similarity(int a, int b) => _vectors.Similarity(a, b);

    private float Exact(VectorQuery query, int slot) => _documents[slot].HasVector ? _vectors.Exact(query, slot) : 0;

    /// <summary>Scores BM25 into <paramref name="scores"/> (by slot) for every document that matches and returns the best admitted slots.</summary>
    private int[] RankLexical(List<string> queryTerms, double[] scores, Admission admit, int window)
    {
        double n = Count;
        var averageLength = Math.Max(1, _totalLength / n);
        var k1 = _options.K1;
        var b = _options.B;
        // Every slot scored, once: pooled, as a common word can touch most of a large index.
        var touched = ArrayPool<int>.Shared.Rent(Count);
        var touchedCount = 0;
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
                if (scores[slot] == 0)
                {
                    touched[touchedCount++] = slot;
                }

                var norm = k1 * (1 - b + (b * _documents[slot].Length / averageLength));
                scores[slot] += idf * frequency * (k1 + 1) / (frequency + norm);
            }
        }

        // A common word can match most of the index, and each filter call reads a memory that is rarely in the cache:
        // the filter is asked first about the matches at or above the score that about a window reach, then, only if it
        // turned some of those away, about the rest; and never about one the window would not take.
        var matches = touched.AsSpan(0, touchedCount);
        var matchScores = ArrayPool<float>.Shared.Rent(touchedCount);
        for (var i = 0; i < matches.Length; i++)
        {
            matchScores[i] = (float)scores[matches[i]];
        }

        var edge = WindowEdge(matchScores.AsSpan(0, touchedCount), 0, window);
        ArrayPool<float>.Shared.Return(matchScores);
        var best = new TopScores(window, _documents);
        for (var pass = 0; pass < 2 && !(pass == 1 && best.IsFull); pass++)
        {
            foreach (var slot in matches)
            {
                var score = scores[slot];
                if ((score >= edge) == (pass == 0) && best.Admits(score, slot) && admit.Passes(slot))
                {
                    best.Offer(slot, score);
                }
            }
        }

        ArrayPool<int>.Shared.Return(touched);
        return best.DrainBestFirst();
    }

    /// <summary>
    /// Scans the vectors and returns the best admitted slots at or above the floor, by float32 cosine, with their
    /// similarities in <paramref name="similarities"/> (by slot). A small index, or a float32 slab, is scanned exactly.
    /// A scan of a compact copy is approximate: the memories whose approximate score is among about the window's best
    /// (<see cref="WindowEdge"/>) are rescored in float32, then anything else within <see cref="ApproximationMargin"/> of
    /// the window's last exact score; when the filter or the floor leaves fewer than a window, a shortlist of
    /// <see cref="RescoreDepth"/> windows below them is rescored too. The rescored slots (<paramref name="rescored"/>,
    /// null for an exact scan) then hold exact values; the others are not to be read. From
    /// <see cref="HybridSearchOptions.SignPrefilterFrom"/> memories the compact scan reads only the slots
    /// <see cref="Prefilter"/> keeps, unless fewer than a window of those pass the filter and the floor.
    /// </summary>
    private int[] RankSemantic(VectorQuery query, float[] similarities, Admission admit, int window, out HashSet<int>? rescored)
    {
        rescored = null;
        // A small index is scanned in float32: tens of microseconds, less than shortlisting and rescoring would cost.
        var depth = window * RescoreDepth;
        var approximate = _vectors.IsApproximate && Count > depth * 4;
        var floor = (float)(_options.SemanticFloor - query.Shift);
        var best = new TopScores(window, _documents);
        if (!approximate)
        {
            _vectors.Scan(query, Count, similarities, exact: true);

            // Each filter call reads a memory that is rarely in the cache: the filter is asked first about the memories at
            // or above the similarity that about a window reach, then, only if it turned some of those away, about the
            // rest; and never about one the window would not take.
            var edge = WindowEdge(similarities.AsSpan(0, Count), floor, window);
            for (var pass = 0; pass < 2 && !(pass == 1 && best.IsFull); pass++)
            {
                for (var slot = 0; slot < Count; slot++)
                {
                    var similarity = similarities[slot];
                    if (similarity >= floor && (similarity >= edge) == (pass == 0) && best.Admits(similarity, slot) && _documents[slot].HasVector && admit.Passes(slot))
                    {
                        best.Offer(slot, similarity);
                    }
                }
            }

            return best.DrainBestFirst();
        }

        if (Count >= _options.SignPrefilterFrom)
        {
            // Only the candidates are scored: the other slots must read as no similarity, not a former search's.
            Array.Clear(similarities, 0, Count);
            var candidates = ArrayPool<int>.Shared.Rent(Count);
            var candidateScores = ArrayPool<float>.Shared.Rent(Count);
            try
            {
                var kept = Prefilter(query, Math.Max(Count / PrefilterShare, window * PrefilterFloor), candidates);
                _vectors.ScanSlots(query, candidates, kept, candidateScores);
                rescored = RescoreApproximate(query, similarities, candidateScores.AsSpan(0, kept), candidates, admit, floor, best, depth);
                if (best.IsFull)
                {
                    return best.DrainBestFirst();
                }

                // Fewer than a window of the candidates passed the filter and reached the floor: memories the prefilter
                // left out may, so every vector is scanned.
                best = new TopScores(window, _documents);
            }
            finally
            {
                ArrayPool<int>.Shared.Return(candidates);
                ArrayPool<float>.Shared.Return(candidateScores);
            }
        }

        _vectors.Scan(query, Count, similarities);
        rescored = RescoreApproximate(query, similarities, similarities.AsSpan(0, Count), null, admit, floor, best, depth);
        return best.DrainBestFirst();
    }

    /// <summary>
    /// Offers <paramref name="best"/> the float32 scores of the memories worth rescoring among approximate
    /// <paramref name="scores"/> (score <c>i</c> is of slot <c>candidates[i]</c>, or of slot <c>i</c> without candidates),
    /// writing them into <paramref name="similarities"/> by slot; returns the slots rescored.
    /// </summary>
    private HashSet<int> RescoreApproximate(
        VectorQuery query, float[] similarities, ReadOnlySpan<float> scores, int[]? candidates, Admission admit, float floor, TopScores best, int depth)
    {
        // The window's candidates by approximate score, found without a heap: a histogram gives the score that about a
        // window of memories reach, and those are rescored.
        var window = best.Capacity;
        var cut = floor - ApproximationMargin;
        var edge = WindowEdge(scores, cut, window);
        var exact = new HashSet<int>(window * 4);
        for (var i = 0; i < scores.Length; i++)
        {
            var slot = candidates is null ? i : candidates[i];
            if (scores[i] >= edge && _documents[slot].HasVector && admit.Passes(slot) && exact.Add(slot))
            {
                Rescore(slot);
            }
        }

        var full = best.IsFull || ShortlistBelow(scores, edge);
        if (full)
        {
            // A memory not rescored yet may still be within the scan's error of the window's last exact score: rescore
            // those too, so that the result is the float32 one even among near-duplicates.
            var threshold = (best.TryGetWorst(out var worst) ? (float)worst : floor) - ApproximationMargin;
            for (var i = 0; i < scores.Length; i++)
            {
                var slot = candidates is null ? i : candidates[i];
                if (scores[i] >= threshold && _documents[slot].HasVector && admit.Passes(slot) && exact.Add(slot))
                {
                    Rescore(slot);
                }
            }
        }

        return exact;

        // Fewer than a window above the edge passed the filter, or reached the floor: shortlist the best approximate scores
        // below it (a bounded heap) and rescore them. True when the shortlist was full, so more may lie below it.
        bool ShortlistBelow(ReadOnlySpan<float> scores, float edge)
        {
            var shortlist = new PriorityQueue<int, float>(Math.Min(depth, scores.Length) + 1);
            var least = cut;
            for (var i = 0; i < scores.Length; i++)
            {
                // A slot rescored above may hold its exact score by now (scores are similarities without candidates).
                var slot = candidates is null ? i : candidates[i];
                var score = scores[i];
                if (score < least || score >= edge || !_documents[slot].HasVector || exact.Contains(slot) || !admit.Passes(slot))
                {
                    continue;
                }

                if (shortlist.Count < depth)
                {
                    shortlist.Enqueue(slot, score);
                }
                else
                {
                    shortlist.DequeueEnqueue(slot, score);
                }

                if (shortlist.Count == depth)
                {
                    // From now on only a better approximate score is worth looking at.
                    shortlist.TryPeek(out _, out least);
                }
            }

            var full = shortlist.Count == depth;
            while (shortlist.TryDequeue(out var slot, out _))
            {
                exact.Add(slot);
                Rescore(slot);
            }

            return full;
        }

        void Rescore(int slot)
        {
            var similarity = _vectors.Exact(query, slot);
            similarities[slot] = similarity;
            if (similarity >= floor)
            {
                best.Offer(slot, similarity);
            }
        }
    }

    /// <summary>
    /// Ranks every slot by the Hamming distance of its sign code to the query's and writes the nearest into
    /// <paramref name="candidates"/>, in slot order: at least <paramref name="keep"/>, and every slot at the farthest
    /// distance taken. Returns how many. The filter is left to the rescoring, as in a scan of every vector: asking it
    /// about thousands of candidates would cost more than the scan saves.
    /// </summary>
    private int Prefilter(VectorQuery query, int keep, int[] candidates)
    {
        var farthest = query.Signs.Length * 64;
        var distances = ArrayPool<ushort>.Shared.Rent(Count);
        var histogram = ArrayPool<int>.Shared.Rent(farthest + 1);
        try
        {
            _vectors.SignDistances(query, distances, Count);
            var nearest = distances.AsSpan(0, Count);
            Array.Clear(histogram, 0, farthest + 1);
            foreach (var distance in nearest)
            {
                histogram[distance]++;
            }

            var (limit, reached) = (0, histogram[0]);
            while (reached < keep && limit < farthest)
            {
                reached += histogram[++limit];
            }

            var kept = 0;
            for (var slot = 0; slot < nearest.Length; slot++)
            {
                if (nearest[slot] <= limit)
                {
                    candidates[kept++] = slot;
                }
            }

            return kept;
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(distances);
            ArrayPool<int>.Shared.Return(histogram);
        }
    }

    /// <summary>
    /// An approximate score that about <paramref name="window"/> of <paramref name="scores"/> reach (at least that many
    /// when as many reach <paramref name="cut"/>), from a histogram of the scores at or above the cut: one pass, no heap.
    /// </summary>
    private static float WindowEdge(ReadOnlySpan<float> scores, float cut, int window)
    {
        const int Bins = 1024;
        var max = scores.IsEmpty ? cut : TensorPrimitives.Max(scores);
        if (!(max > cut))
        {
            return cut;
        }

        var scale = (Bins - 1) / (max - cut);
        Span<int> counts = stackalloc int[Bins];
        counts.Clear();
        foreach (var score in scores)
        {
            if (score >= cut)
            {
                counts[(int)((score - cut) * scale)]++;
            }
        }

        var reached = 0;
        for (var bin = Bins - 1; bin > 0; bin--)
        {
            reached += counts[bin];
            if (reached >= window)
            {
                // One bin lower: the bin a score falls in is rounded, so its lower edge may be a hair above the score.
                return cut + ((bin - 1) / scale);
            }
        }

        return cut;
    }

    private enum Verdict : byte
    {
        Unknown,
        Admitted,
        Rejected,
    }

    /// <summary>Memoizes the caller's filter (by slot: of the memory's id or tag) per slot for one search, so each memory
    /// is judged at most once.</summary>
    private readonly struct Admission(Func<int, bool>? filter, Verdict[] verdicts)
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
                verdict = filter(slot) ? Verdict.Admitted : Verdict.Rejected;
                verdicts[slot] = verdict;
            }

            return verdict == Verdict.Admitted;
        }
    }

    /// <summary>Keeps the best N slots by score; equal scores are ordered by ordinal id so results do not depend on slot order.</summary>
    /// <remarks>A binary heap of (score, slot) with the worst at the root, compared inline: a search offers it hundreds of
    /// slots, and lexical scores often tie (memories of one length that share the query's words score alike), so ids
    /// are compared only on equal scores, by their prefixes first (<see cref="Document.IdPrefix"/>), and no tuple
    /// priority goes through an <see cref="IComparer{T}"/>.</remarks>
    private sealed class TopScores
    {
        private readonly int _capacity;
        private readonly Document[] _documents;
        private (double Score, int Slot)[] _heap;
        private int _count;

        public TopScores(int capacity, Document[] documents)
        {
            _capacity = capacity;
            _documents = documents;
            _heap = new (double, int)[Math.Min(capacity, 1024)];
        }

        public void Offer(int slot, double score)
        {
            if (_count < _capacity)
            {
                if (_count == _heap.Length)
                {
                    Array.Resize(ref _heap, (int)Math.Min(_capacity, 2L * _heap.Length));
                }

                SiftUp(_count++, (score, slot));
            }
            else if (_capacity > 0 && Worse(_heap[0], (score, slot)))
            {
                SiftDown(0, (score, slot));
            }
        }

        /// <summary>Whether the capacity is reached.</summary>
        public bool IsFull => _count >= _capacity;

        /// <summary>Whether an offer of <paramref name="score"/> for <paramref name="slot"/> would be kept: false when the set
        /// is full and its worst is better, so <see cref="Offer"/> would turn it away. Ask before anything costly.</summary>
        public bool Admits(double score, int slot) => _count < _capacity || (_capacity > 0 && Worse(_heap[0], (score, slot)));

        /// <summary>How many slots are kept at most.</summary>
        public int Capacity => _capacity;

        /// <summary>The lowest score kept, once the capacity is reached.</summary>
        public bool TryGetWorst(out double score)
        {
            var full = _count > 0 && _count >= _capacity;
            score = full ? _heap[0].Score : 0;
            return full;
        }

        public int[] DrainBestFirst()
        {
            var slots = new int[_count];
            for (var i = slots.Length - 1; i >= 0; i--)
            {
                slots[i] = _heap[0].Slot;
                var last = _heap[--_count];
                if (_count > 0)
                {
                    SiftDown(0, last);
                }
            }

            return slots;
        }

        /// <summary>Whether <paramref name="x"/> ranks below <paramref name="y"/>: a lower score, or an equal one and a later id.</summary>
        private bool Worse((double Score, int Slot) x, (double Score, int Slot) y)
        {
            var byScore = x.Score.CompareTo(y.Score);
            return byScore < 0 || (byScore == 0 && Document.CompareIds(_documents[x.Slot], _documents[y.Slot]) > 0);
        }

        private void SiftUp(int index, (double Score, int Slot) entry)
        {
            while (index > 0)
            {
                var parent = (index - 1) >> 1;
                if (!Worse(entry, _heap[parent]))
                {
                    break;
                }

                _heap[index] = _heap[parent];
                index = parent;
            }

            _heap[index] = entry;
        }

        private void SiftDown(int index, (double Score, int Slot) entry)
        {
            while (true)
            {
                var child = (2 * index) + 1;
                if (child >= _count)
                {
                    break;
                }

                if (child + 1 < _count && Worse(_heap[child + 1], _heap[child]))
                {
                    child++;
                }

                if (!Worse(_heap[child], entry))
                {
                    break;
                }

                _heap[index] = _heap[child];
                index = child;
            }

            _heap[index] = entry;
        }
    }
}
