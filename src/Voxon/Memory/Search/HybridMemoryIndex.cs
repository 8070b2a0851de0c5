namespace Voxon.Memory.Search;

/// <summary>
/// An in-memory hybrid index of memory texts: BM25 over <see cref="SearchTokenizer"/> terms, and brute-force
/// cosine similarity over embeddings, fused as <see cref="HybridSearchOptions"/> says, with dates for time questions
/// and optional diversity in the top k.
/// </summary>
/// <remarks>
/// <para>
/// Every memory lives in a dense slot 0..Count-1. Its terms are posted in per-term maps slot -> frequency and
/// its vector (normalized on the way in) sits in a <see cref="VectorSlab"/> at <c>slot * dimensions</c>, in float32 and
/// in the compact copy the semantic scan reads (int8 by default). Removing
/// a memory moves the last one into its slot, so <see cref="Upsert"/> and <see cref="Remove"/> cost
/// O(terms of the memories involved) and a memory is searchable as soon as <see cref="Upsert"/> returns.
/// </para>
/// <para>
/// Thread-safety: not safe for concurrent writes. <see cref="Upsert"/>, <see cref="Remove"/> and <see cref="Clear"/>
/// need exclusive access; concurrent <see cref="Search"/> calls with no writer are safe (scratch space is
/// rented per call). The session core serializes access per session.
/// </para>
/// </remarks>
internal sealed partial class HybridMemoryIndex
{
    private const int InitialCapacity = 16;

    /// <summary>The number of vectors at which the sign codes are first centred on their mean (then at each doubling).</summary>
    internal const int SignCodesFirstCentredAt = 1_024;

    private readonly HybridSearchOptions _options;
    private readonly Dictionary<string, int> _slotById = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _termIds = new(StringComparer.Ordinal);
    private readonly List<string?> _termText = [];
    private readonly List<Dictionary<int, int>?> _postings = [];
    private readonly Stack<int> _freeTermIds = new();
    private Document[] _documents = new Document[InitialCapacity];
    private readonly VectorSlab _vectors;
    private long _totalLength;
    private TermCounter? _termCounter;

    // The sum of the stored (normalized) vectors, for the mean a centred query is measured against.
    private double[] _vectorSum = [];
    private int _vectorCount;

    // The number of vectors when the sign codes were last centred on the mean; they are again at twice as many.
    private int _signCodesCentredAt = SignCodesFirstCentredAt / 2;

    /// <summary>Creates an empty index.</summary>
    /// <param name="options">Tuning; validated and copied. Null means the defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range (the message lists all of them).</exception>
    public HybridMemoryIndex(HybridSearchOptions? options = null)
    {
        _options = (options ?? new HybridSearchOptions()).Clone();
        _options.Validate();
        _vectors = new VectorSlab(_options.Scan);
        _vectors.EnsureCapacity(InitialCapacity);
    }

    /// <summary>The number of memories indexed.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// The embedding dimension the index has settled on (set by the first non-empty embedding, reset by <see cref="Clear"/>), or 0.
    /// </summary>
    public int Dimensions => _vectors.Dimensions;

    /// <summary>Adds a memory, or replaces the text and embedding of the one with the same id.</summary>
    /// <param name="id">The memory id (ordinal comparison).</param>
    /// <param name="text">The text to match lexically.</param>
    /// <param name="embedding">The memory's embedding, or empty to index it for lexical search only. Need not be normalized.</param>
    /// <param name="time">The days the memory is about, for time questions; default for none.</param>
    /// <param name="tag">What <see cref="SearchTagged"/> hands its filter for this memory (the caller's record of it), or null.</param>
    /// <exception cref="ArgumentException">The embedding's length differs from the index's <see cref="Dimensions"/>.</exception>
    public void Upsert(string id, string text, ReadOnlyMemory<float> embedding, IndexedTime time = default, object? tag = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(text);
        if (!embedding.IsEmpty && Dimensions != 0 && embedding.Length != Dimensions)
        {
            throw DimensionMismatch(embedding.Length, Dimensions, nameof(embedding));
        }

        var terms = (_termCounter ??= new TermCounter(_termIds, shareAcrossTexts: false)).Count(text);
        if (_slotById.TryGetValue(id, out var slot))
        {
            Unpost(slot);
            AddToSum(slot, -1);
        }
        else
        {
            slot = Count;
            EnsureCapacity(Count + 1);
            _slotById.Add(id, slot);
            Count++;
        }

        Place(slot, id, terms, _vectors.Store(slot, embedding), time, tag);
        AddToSum(slot, 1);
        CentreSignCodesWhenDoubled();
    }

    /// <summary>Posts <paramref name="terms"/> for the memory in <paramref name="slot"/> (whose vector is stored) and
    /// records it there.</summary>
    private void Place(int slot, string id, TermCount[] terms, bool hasVector, IndexedTime time, object? tag)
    {
        var length = 0;
        var postings = new TermFrequency[terms.Length];
        for (var i = 0; i < terms.Length; i++)
        {
            var (term, frequency) = terms[i];
            var termId = InternTerm(term);
            _postings[termId]!.Add(slot, frequency);
            postings[i] = new TermFrequency(termId, frequency);
            length += frequency;
        }

        _totalLength += length;
        _documents[slot] = new Document(id, length, postings, hasVector, time, tag);
    }

    private void CentreSignCodesWhenDoubled()
    {
        if (_vectorCount >= 2 * _signCodesCentredAt)
        {
            // Re-encoding every code costs O(memories), once per doubling: a constant share of each insert.
            var mean = new float[Dimensions];
            for (var i = 0; i < mean.Length; i++)
            {
                mean[i] = (float)(_vectorSum[i] / _vectorCount);
            }

            _vectors.CentreSignCodes(mean, Count);
            _signCodesCentredAt = _vectorCount;
        }
    }

    /// <summary>How many memories fit before the arrays grow.</summary>
    internal int Capacity => _documents.Length;

    /// <summary>Removes a memory.</summary>
    /// <returns><see langword="true"/> if it was indexed.</returns>
    public bool Remove(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!_slotById.Remove(id, out var slot))
        {
            return false;
        }

        Unpost(slot);
        AddToSum(slot, -1);
        var last = Count - 1;
        if (slot != last)
        {
            var moved = _documents[last];
            foreach (var (termId, frequency) in moved.Terms)
            {
                var posting = _postings[termId]!;
                posting.Remove(last);
                posting.Add(slot, frequency);
            }

            _vectors.Move(last, slot);

            _documents[slot] = moved;
            _slotById[moved.Id] = slot;
        }

        _documents[last] = default;
        Count--;
        return true;
    }

    /// <summary>Removes every memory and forgets the embedding dimension.</summary>
    public void Clear()
    {
        _slotById.Clear();
        _termIds.Clear();
        _termText.Clear();
        _postings.Clear();
        _freeTermIds.Clear();
        _documents = new Document[InitialCapacity];
        _vectors.Clear();
        _vectors.EnsureCapacity(InitialCapacity);
        _totalLength = 0;
        _vectorSum = [];
        _vectorCount = 0;
        _signCodesCentredAt = SignCodesFirstCentredAt / 2;
        Count = 0;
    }

    private int InternTerm(string term)
    {
        if (_termIds.TryGetValue(term, out var termId))
        {
            return termId;
        }

        if (_freeTermIds.TryPop(out termId))
        {
            _termText[termId] = term;
            _postings[termId] = [];
        }
        else
        {
            termId = _termText.Count;
            _termText.Add(term);
            _postings.Add([]);
        }

        _termIds.Add(term, termId);
        return termId;
    }

    /// <summary>Takes the document in <paramref name="slot"/> out of the postings, releasing terms no document uses any more.</summary>
    private void Unpost(int slot)
    {
        ref var document = ref _documents[slot];
        foreach (var (termId, _) in document.Terms)
        {
            var posting = _postings[termId]!;
            posting.Remove(slot);
            if (posting.Count == 0)
            {
                _termIds.Remove(_termText[termId]!);
                _termText[termId] = null;
                _postings[termId] = null;
                _freeTermIds.Push(termId);
            }
        }

        _totalLength -= document.Length;
        document = document with { Terms = [], Length = 0 };
    }

    /// <summary>Adds (<paramref name="sign"/> 1) or takes away (-1) the vector in <paramref name="slot"/>, if it has one, to or from the sum.</summary>
    private void AddToSum(int slot, int sign)
    {
        if (!_documents[slot].HasVector)
        {
            return;
        }

        if (_vectorSum.Length != Dimensions)
        {
            _vectorSum = new double[Dimensions];
        }

        Accumulate(_vectorSum, _vectors.Vector(slot), sign);
        _vectorCount += sign;
    }

    private static ArgumentException DimensionMismatch(int length, int dimensions, string parameter) =>
        new($"Embedding has {length} dimensions; this index holds {dimensions}-dimensional embeddings.", parameter);

    private static void Accumulate(double[] sum, ReadOnlySpan<float> vector, int sign)
    {
        for (var i = 0; i < vector.Length; i++)
        {
            sum[i] += sign * vector[i];
        }
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _documents.Length)
        {
            return;
        }

        var capacity = Math.Max(needed, _documents.Length * 2);
        Array.Resize(ref _documents, capacity);
        _vectors.EnsureCapacity(capacity);
    }

    private readonly record struct TermFrequency(int TermId, int Frequency);

    private readonly record struct Document(string Id, int Length, TermFrequency[] Terms, bool HasVector, IndexedTime Time, object? Tag)
    {
        /// <summary>The id's first eight UTF-16 units, big-endian, zero past its end: ids whose prefixes differ compare as
        /// these do, so equal scores are ordered by id without reading the id strings, which are rarely in the cache.</summary>
        public UInt128 IdPrefix { get; } = Prefix(Id);

        /// <summary>Ordinal order of the ids of <paramref name="x"/> and <paramref name="y"/>.</summary>
        public static int CompareIds(in Document x, in Document y)
        {
            var byPrefix = x.IdPrefix.CompareTo(y.IdPrefix);
            return byPrefix != 0 ? byPrefix : string.CompareOrdinal(x.Id, y.Id);
        }

        private static UInt128 Prefix(string id)
        {
            UInt128 prefix = 0;
            for (var i = 0; i < 8; i++)
            {
                prefix = (prefix << 16) | (i < id.Length ? id[i] : 0u);
            }

            return prefix;
        }
    }
}
