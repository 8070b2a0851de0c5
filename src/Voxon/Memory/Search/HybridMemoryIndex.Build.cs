using System.Numerics.Tensors;

namespace Voxon.Memory.Search;

/// <summary>What <see cref="HybridMemoryIndex.UpsertMany"/> indexes for one memory (as <see cref="HybridMemoryIndex.Upsert"/>'s arguments).</summary>
internal readonly record struct IndexItem(string Id, string Text, ReadOnlyMemory<float> Embedding, IndexedTime Time, object? Tag);

/// <summary>A term of a text and how often it occurs there.</summary>
internal readonly record struct TermCount(string Term, int Frequency);

internal sealed partial class HybridMemoryIndex
{
    /// <summary>Items from which <see cref="UpsertMany"/> describes, tokenizes and stores vectors across cores.</summary>
    internal const int ParallelBuildThreshold = 1_024;

    /// <summary>
    /// Indexes <paramref name="items"/> as <see cref="Upsert"/> would one after another, with the same result, but
    /// building a load's index in parts: from <see cref="ParallelBuildThreshold"/> items, each item's description,
    /// terms and vector are made across cores, and only the postings are written on the calling thread (the first
    /// search after loading 10,000 memories, which builds the index, went from 59-71 ms to 40-42 ms at p50 on 2 cores,
    /// and from 29 to 17 MiB allocated, most of it a string per word).
    /// </summary>
    /// <param name="items">The memories, in the order <see cref="Upsert"/> would take them (the last of a repeated id wins).</param>
    /// <param name="describe">What to index for an item; called once per item, from several threads at once.</param>
    /// <exception cref="ArgumentNullException">An item has no id or text (nothing is indexed).</exception>
    /// <exception cref="ArgumentException">An embedding's length differs from the others' (nothing is indexed).</exception>
    public void UpsertMany<T>(IReadOnlyList<T> items, Func<T, IndexItem> describe)
    {
        var count = items.Count;
        if (count < ParallelBuildThreshold)
        {
            // Room for all at once: growing from 16 doubled the slab six times to 1,000 memories, and each new large
            // array could set off a full collection.
            EnsureCapacity(Count + count);
            foreach (var item in items)
            {
                var (id, text, embedding, time, tag) = describe(item);
                Upsert(id, text, embedding, time, tag);
            }

            return;
        }

        // 1. Across cores: each item's description and terms. The term table is only read until step 4.
        var described = new IndexItem[count];
        var terms = new TermCount[count][];
        ParallelRanges.Run(count, ParallelBuildThreshold, (_, from, to) =>
        {
            var counter = new TermCounter(_termIds, shareAcrossTexts: true);
            for (var i = from; i < to; i++)
            {
                described[i] = describe(items[i]);
                terms[i] = described[i].Text is { } text ? counter.Count(text) : [];
            }
        });

        // 2. Checked before anything changes, as Upsert would check each: then slots for the ids not indexed yet (a
        // repeated or indexed id is upserted at the end, replacing what is there).
        var dimensions = Dimensions;
        for (var i = 0; i < count; i++)
        {
            var (id, text, embedding, _, _) = described[i];
            if (id is null || text is null)
            {
                throw new ArgumentNullException(nameof(items), $"Item {i} has no {(id is null ? "id" : "text")}.");
            }

            if (embedding.IsEmpty)
            {
                continue;
            }

            if (dimensions == 0)
            {
                // The first vector the slab keeps settles the dimensions; a zero one before it is stored as no vector.
                dimensions = TensorPrimitives.Norm(embedding.Span) is var norm && norm > 0 && float.IsFinite(norm) ? embedding.Length : 0;
            }
            else if (embedding.Length != dimensions)
            {
                throw DimensionMismatch(embedding.Length, dimensions, nameof(items));
            }
        }

        var first = Count;
        var slots = new int[count];
        var fresh = 0;
        for (var i = 0; i < count; i++)
        {
            slots[i] = _slotById.TryAdd(described[i].Id, first + fresh) ? first + fresh++ : -1;
        }

        EnsureCapacity(first + fresh);
        Count = first + fresh;

        // 3. Vectors: on the calling thread until the slab has its dimensions, then across cores, each part summing
        // its own (combined in part order below, so the sum does not depend on scheduling).
        var hasVector = new bool[count];
        var settled = 0;
        for (; settled < count && _vectors.Dimensions == 0; settled++)
        {
            hasVector[settled] = slots[settled] >= 0 && _vectors.Store(slots[settled], described[settled].Embedding);
        }

        var parts = ParallelRanges.PartsOf(count - settled, ParallelBuildThreshold);
        var sums = new double[parts][];
        var stored = new int[parts];
        ParallelRanges.Run(count - settled, ParallelBuildThreshold, (part, from, to) =>
        {
            var sum = sums[part] = new double[_vectors.Dimensions];
            for (var i = settled + from; i < settled + to; i++)
            {
                if (slots[i] >= 0 && _vectors.Store(slots[i], described[i].Embedding))
                {
                    hasVector[i] = true;
                    stored[part]++;
                    Accumulate(sum, _vectors.Vector(slots[i]), 1);
                }
            }
        });

        // 4. Postings and documents, in order.
        for (var i = 0; i < count; i++)
        {
            if (slots[i] >= 0)
            {
                var (id, _, _, time, tag) = described[i];
                Place(slots[i], id, terms[i], hasVector[i], time, tag);
                if (i < settled)
                {
                    AddToSum(slots[i], 1);
                }
            }
        }

        if (stored.Sum() > 0)
        {
            if (_vectorSum.Length != Dimensions)
            {
                _vectorSum = new double[Dimensions];
            }

            for (var part = 0; part < parts; part++)
            {
                TensorPrimitives.Add(_vectorSum, sums[part], _vectorSum);
                _vectorCount += stored[part];
            }
        }

        CentreSignCodesWhenDoubled();
        for (var i = 0; i < count; i++)
        {
            if (slots[i] < 0)
            {
                var (id, text, embedding, time, tag) = described[i];
                Upsert(id, text, embedding, time, tag);
            }
        }
    }

    /// <summary>
    /// Counts the terms of one text at a time, reusing its collections. A term's string is the index's when the index
    /// has the term; else, when <c>shareAcrossTexts</c>, one made once for all the texts this counter counts (a load's
    /// build otherwise made a string of every word of every memory), or one per text.
    /// </summary>
    /// <param name="known">The index's terms: read only, so counters on several threads may share it while nothing writes it.</param>
    /// <param name="shareAcrossTexts">Keep the strings made for new terms for later texts.</param>
    private sealed class TermCounter(Dictionary<string, int> known, bool shareAcrossTexts)
    {
        private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _known = known.GetAlternateLookup<ReadOnlySpan<char>>();
        private readonly HashSet<string>? _made = shareAcrossTexts ? new(StringComparer.Ordinal) : null;

        // The text's terms in order of first occurrence, and where each is in that list.
        private readonly List<TermCount> _terms = [];
        private readonly Dictionary<string, int> _positions = new(StringComparer.Ordinal);
        private readonly char[] _buffer = new char[SearchTokenizer.MaxTokenLength];

        public TermCount[] Count(string text)
        {
            var positions = _positions.GetAlternateLookup<ReadOnlySpan<char>>();
            foreach (var term in SearchTokenizer.Terms(text, _buffer))
            {
                if (positions.TryGetValue(term, out var at))
                {
                    _terms[at] = _terms[at] with { Frequency = _terms[at].Frequency + 1 };
                    continue;
                }

                if (!_known.TryGetValue(term, out var key, out _) && (_made is null || !_made.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(term, out key)))
                {
                    key = new string(term);
                    _made?.Add(key);
                }

                _positions.Add(key, _terms.Count);
                _terms.Add(new TermCount(key, 1));
            }

            var result = _terms.ToArray();
            _terms.Clear();
            _positions.Clear();
            return result;
        }
    }
}
