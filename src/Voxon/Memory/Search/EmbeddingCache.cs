namespace Voxon.Memory.Search;

/// <summary>
/// The most recently used embeddings of short texts, by text and by kind (query or document), so words said again in a
/// session ("yes", "go on", a question asked twice, a fact restated) are not encoded again on the path to the reply. Encoding
/// one short text with the default local model costs about 3 to 4 ms of compute on two cores, more than the rest of a
/// turn together; a hit costs a dictionary lookup and a copy.
/// </summary>
/// <remarks>
/// Vectors are copied in and out, so a caller that changes the array it got changes nothing here. Entries are only
/// ever the generator's own output for the same text and kind, so a hit gives exactly the vector a miss would have
/// produced (the generators Voxon ships are deterministic). Thread-safe.
/// </remarks>
internal sealed class EmbeddingCache
{
    private readonly int _capacity;
    private readonly Dictionary<(string Text, bool Query), LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _recency = new();
    private readonly Lock _gate = new();

    /// <summary>Creates a cache that keeps at most <paramref name="capacity"/> vectors (0 keeps none).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is negative.</exception>
    public EmbeddingCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
    }

    /// <summary>Vectors held now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>A copy of the vector stored for <paramref name="text"/> as a query or a document, marked most recently
    /// used; null when there is none.</summary>
    public float[]? Get(string text, bool query)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue((text, query), out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                return node.Value.Vector.ToArray();
            }
        }

        return null;
    }

    /// <summary>Stores a copy of <paramref name="vector"/>, dropping the least recently used vector when full.</summary>
    public void Add(string text, bool query, ReadOnlySpan<float> vector)
    {
        if (_capacity == 0)
        {
            return;
        }

        var copy = vector.ToArray();
        lock (_gate)
        {
            if (_entries.TryGetValue((text, query), out var existing))
            {
                _recency.Remove(existing);
                _entries.Remove((text, query));
            }
            else if (_entries.Count >= _capacity)
            {
                var oldest = _recency.Last!;
                _recency.RemoveLast();
                _entries.Remove((oldest.Value.Text, oldest.Value.Query));
            }

            _entries[(text, query)] = _recency.AddFirst(new Entry(text, query, copy));
        }
    }

    private sealed record Entry(string Text, bool Query, float[] Vector);
}
