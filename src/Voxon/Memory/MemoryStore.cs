using Voxon.Memory.Search;
using Voxon.Retention;

namespace Voxon.Memory;

/// <summary>
/// A session's memories: the entries (live and superseded history), the search index over live ones,
/// and the token budget. Supersedes by slot, drops exact duplicates, evicts the least valuable entries
/// (importance x recency) past max_memory_size and never evicts importance-1.0 entries.
/// </summary>
/// <remarks>Not thread-safe: the owning session serialises access. Every change to the entries goes through
/// <see cref="Insert"/> or <see cref="Remove"/>, which record it for the next incremental save: there is no
/// unrecorded way to add or remove an entry. The only exception is <see cref="LoadStored"/>, which refuses to
/// run on a store that holds anything (it puts back what storage already has).</remarks>
internal sealed class MemoryStore
{
    /// <summary>Days after which recency halves an entry's value for eviction.</summary>
    private const double RecencyHalfLifeDays = 30;

    private readonly Dictionary<string, MemoryEntry> _entries = new(StringComparer.Ordinal);
    private readonly HybridMemoryIndex _index;

    // Live entries a load put back that are not in the search index yet: indexing (tokenizing, resolving dates,
    // normalizing vectors) is most of a load's work past storage, so it waits for the index's first use. Guarded by
    // _indexLock, since searches may run concurrently.
    private List<MemoryEntry>? _unindexed;
    private readonly Lock _indexLock = new();
    private int _indexing;

    // Profile facts are read on every turn; keeping them apart avoids scanning all entries per turn.
    private readonly HashSet<string> _profile = new(StringComparer.Ordinal);

    // Live entries by scope and content (case-insensitive) and by scope and slot: dedupe and supersession
    // are lookups, not scans, on the per-turn path.
    private readonly Dictionary<ScopedKey, string> _byContent = new(ScopedKey.IgnoringCase);
    private readonly Dictionary<ScopedKey, string> _bySlot = new(ScopedKey.Exact);

    // Whether those two lack the entries a load put back: the first add builds them (BuildKeys). Many loads never add a
    // memory (export, listing, the dashboard), and hashing every content was half of making a 10,000-memory session
    // from its document (2 of 4 ms), which a call now pays at most once, on its first new memory.
    private bool _keysPending;
    private readonly MemoryTtlPolicy _ttl;
    private int _liveTokens;

    // No entry expires before this instant (by its own expiry or its category's lifetime): a lower bound, so that
    // RemoveExpired scans only when something may be due.
    private DateTimeOffset _nextExpiry = DateTimeOffset.MaxValue;
    private HashSet<string> _dirty = new(StringComparer.Ordinal);

    // Ids of the entries storage holds (as of the last load or acknowledged save): the record count a save states.
    private readonly HashSet<string> _stored = new(StringComparer.Ordinal);

    public MemoryStore(int maxTokens, HybridSearchOptions? searchOptions = null, MemoryTtlPolicy? ttl = null)
    {
        MaxTokens = maxTokens;
        _ttl = ttl ?? MemoryTtlPolicy.None;
        _index = new HybridMemoryIndex(searchOptions);
    }

    public int MaxTokens { get; set; }

    /// <summary>Loads a lazily loaded session's entries on first access; null once loaded.</summary>
    public Action? Hydrate { get; set; }

    /// <summary>Loads a lazily loaded session's entries on the thread pool, then calls the action given; null once loaded.</summary>
    public Action<Action>? LoadInBackground { get; set; }

    public int TokenCount
    {
        get
        {
            Hydrate?.Invoke();
            return _liveTokens;
        }
    }

    /// <summary>Every entry, live and history.</summary>
    public IEnumerable<MemoryEntry> All
    {
        get
        {
            Hydrate?.Invoke();
            return _entries.Values;
        }
    }

    public int Count => All.Count();

    public MemoryEntry? Find(string id)
    {
        Hydrate?.Invoke();
        return _entries.GetValueOrDefault(id);
    }

    /// <summary>Live entries in creation order.</summary>
    public IEnumerable<MemoryEntry> Live(DateTimeOffset now) =>
        All.Where(e => _ttl.IsLive(e, now)).OrderBy(e => e.CreatedAt);

    /// <summary>Ids of entries added, changed or removed since the last call (change tracking for incremental saves).</summary>
    public HashSet<string> TakeChanges()
    {
        var changed = _dirty;
        _dirty = new HashSet<string>(StringComparer.Ordinal);
        return changed;
    }

    /// <summary>Puts back changes a failed save did not store.</summary>
    public void ReturnChanges(IEnumerable<string> ids) => _dirty.UnionWith(ids);

    /// <summary>Ids of the entries storage holds, as of the last load or acknowledged save.</summary>
    public IReadOnlyCollection<string> StoredIds => _stored;

    /// <summary>Entries storage will hold once a save writing <paramref name="upserted"/> and <paramref name="removed"/> is acknowledged.</summary>
    public int StoredCountAfter(IEnumerable<string> upserted, IEnumerable<string> removed)
    {
        var after = new HashSet<string>(_stored, StringComparer.Ordinal);
        after.UnionWith(upserted);
        after.ExceptWith(removed);
        return after.Count;
    }

    /// <summary>Records that storage acknowledged a save of <paramref name="upserted"/> and <paramref name="removed"/>.</summary>
    public void MarkStored(IEnumerable<string> upserted, IEnumerable<string> removed)
    {
        _stored.UnionWith(upserted);
        _stored.ExceptWith(removed);
    }

    /// <summary>Live single-valued facts and identity entries (name, age, home, work...), the user's profile.</summary>
    public IEnumerable<MemoryEntry> Profile(DateTimeOffset now)
    {
        Hydrate?.Invoke();
        return _profile.Select(id => _entries[id]).Where(e => _ttl.IsLive(e, now));
    }

    private static bool IsProfile(MemoryEntry entry) => entry.Category == "identity" || entry.Slot is not null;

    /// <summary>Adds an entry (with its embedding, or without one that <see cref="SetEmbedding"/> gives it later).</summary>
    public MemoryChange Add(MemoryEntry entry, DateTimeOffset now)
    {
        Hydrate?.Invoke();
        BuildKeys();
        var duplicate = LiveBy(_byContent, ContentKey(entry), now);
        if (duplicate is not null)
        {
            // Restating a fact refreshes it rather than storing it twice.
            var refreshed = duplicate with
            {
                UpdatedAt = now,
                Importance = Math.Max(duplicate.Importance, entry.Importance),
                Transient = duplicate.Transient && entry.Transient,
                Sensitive = duplicate.Sensitive || entry.Sensitive,
            };
            Replace(refreshed);
            return new MemoryChange(refreshed, true, null, [], false);
        }

        MemoryEntry? superseded = null;
        if (entry.Slot is not null)
        {
            var previous = LiveBy(_bySlot, SlotKey(entry)!.Value, now);
            if (previous is not null)
            {
                superseded = previous with { SupersededBy = entry.Id, UpdatedAt = now, Transient = previous.Transient || entry.Transient };
                Replace(superseded);
            }
        }

        Insert(entry);
        var (evicted, overBudget) = EnforceBudget(now, protect: entry.Id);
        return new MemoryChange(entry, false, superseded, evicted, overBudget);
    }

    private static ScopedKey ContentKey(MemoryEntry entry) => new(entry.Scope, entry.Content);

    private static ScopedKey? SlotKey(MemoryEntry entry) => entry.Slot is null ? null : new(entry.Scope, entry.Slot);

    private MemoryEntry? LiveBy(Dictionary<ScopedKey, string> index, ScopedKey key, DateTimeOffset now) =>
        index.TryGetValue(key, out var id) && _entries.TryGetValue(id, out var found) && _ttl.IsLive(found, now) ? found : null;

    /// <summary>Puts back the entries storage holds (load), without dedupe or eviction; they are not changes.</summary>
    /// <exception cref="InvalidOperationException">The store already holds entries or unsaved changes: use
    /// <see cref="Put"/> (recorded) to add entries to a session.</exception>
    public void LoadStored(IEnumerable<MemoryEntry> entries)
    {
        if (_entries.Count > 0 || _dirty.Count > 0 || _stored.Count > 0)
        {
            throw new InvalidOperationException("LoadStored only fills an empty store; entries added to a live session must be recorded for the next save (Put or Add).");
        }

        // Under the index lock: a lazily loaded session was first loaded empty, so a build started in the background
        // (IndexInBackground, when a conversation starts) may come now, and must take all of these entries, not the
        // ones loaded so far (it would drop those added while it ran, or null the list under this loop).
        lock (_indexLock)
        {
            _unindexed = [];
            _keysPending = true;
            if (entries.TryGetNonEnumeratedCount(out var count))
            {
                // Sized once: a 10,000-memory load otherwise grew each of these a dozen times.
                _entries.EnsureCapacity(count);
                _stored.EnsureCapacity(count);
                _unindexed.Capacity = count;
            }

            foreach (var entry in entries)
            {
                Insert(entry, loading: true);
                _stored.Add(entry.Id);
            }
        }
    }

    /// <summary>Adds or replaces an entry as it is (no dedupe, supersession or eviction), recorded for the next save.</summary>
    public void Put(MemoryEntry entry)
    {
        Hydrate?.Invoke();
        Insert(entry);
    }

    /// <summary>Gives an entry recorded without a vector the one computed since (recorded for the next save); false when
    /// the entry is gone, has a vector, or says something else now (the vector would be stale).</summary>
    public bool SetEmbedding(string id, string content, float[] embedding, string? model)
    {
        if (!_entries.TryGetValue(id, out var entry) || !entry.Embedding.IsEmpty || entry.Content != content)
        {
            return false;
        }

        Insert(entry with { Embedding = embedding, EmbeddingModel = model });
        return true;
    }

    public bool Remove(string id)
    {
        Hydrate?.Invoke();
        if (!_entries.Remove(id, out var entry))
        {
            return false;
        }

        _dirty.Add(id);
        Unindex(entry);
        return true;
    }

    /// <summary>Removes entries matching <paramref name="predicate"/>; returns them.</summary>
    public List<MemoryEntry> RemoveWhere(Func<MemoryEntry, bool> predicate)
    {
        var removed = All.Where(predicate).ToList();
        foreach (var entry in removed)
        {
            Remove(entry.Id);
        }

        return removed;
    }

    /// <summary>Drops entries (live and history) whose expiry or category lifetime has passed, recorded for the next
    /// save; cheap when nothing is due.</summary>
    public List<MemoryEntry> RemoveExpired(DateTimeOffset now)
    {
        Hydrate?.Invoke();
        if (now < _nextExpiry)
        {
            return [];
        }

        var removed = RemoveWhere(e => _ttl.ExpiryOf(e) <= now);
        _nextExpiry = _entries.Values.Select(_ttl.ExpiryOf).Min() ?? DateTimeOffset.MaxValue;
        return removed;
    }

    /// <summary>Searches live entries; <paramref name="now"/> places "last year" and the like in a time question.</summary>
    public IReadOnlyList<MemorySearchResult> Search(string query, ReadOnlyMemory<float> queryEmbedding, int topK, Func<MemoryEntry, bool>? filter, double minScore, DateTimeOffset now)
    {
        Hydrate?.Invoke();
        if (string.IsNullOrWhiteSpace(query) && queryEmbedding.IsEmpty)
        {
            // Nothing to search with (an opening, before any words): no hits, and no wait for the index a load left to
            // build, which a realtime call's connection then overlaps.
            return [];
        }

        var time = TimeFocus.Parse(query, now);
        var hits = filter is null
            ? Index.Search(query, queryEmbedding, topK, null, minScore, time)
            : Index.SearchTagged(query, queryEmbedding, topK, entry => filter((MemoryEntry)entry!), minScore, time);
        return [.. hits.Select(h => new MemorySearchResult(_entries[h.Id], h.Score, h.LexicalScore, h.SemanticScore))];
    }

    private (List<MemoryEntry> Evicted, bool OverBudget) EnforceBudget(DateTimeOffset now, string protect)
    {
        if (_liveTokens <= MaxTokens)
        {
            return ([], false);
        }

        var evicted = new List<MemoryEntry>();
        var candidates = _entries.Values
            .Where(e => e.SupersededBy is null && e.Importance < 1.0 && e.Id != protect)
            .OrderBy(e => Value(e, now))
            .ToList();
        foreach (var candidate in candidates)
        {
            if (_liveTokens <= MaxTokens)
            {
                break;
            }

            Remove(candidate.Id);
            evicted.Add(candidate);
        }

        return (evicted, _liveTokens > MaxTokens);
    }

    /// <summary>Importance times recency: what losing the entry would cost.</summary>
    internal static double Value(MemoryEntry entry, DateTimeOffset now)
    {
        var ageDays = Math.Max(0, (now - entry.UpdatedAt).TotalDays);
        return entry.Importance * Math.Pow(0.5, ageDays / RecencyHalfLifeDays);
    }

    /// <summary>How many entries the search index holds before it grows (built or not).</summary>
    internal int SearchIndexCapacity => _index.Capacity;

    /// <summary>Whether every live entry is in the search index (false after a load until the index is first used).</summary>
    internal bool SearchIndexBuilt => Volatile.Read(ref _unindexed) is null;

    /// <summary>
    /// Starts building the search index on the thread pool when a load left it unbuilt (after reading the entries when
    /// a lazy load left them unread): a conversation is starting, and its first turn searches. A call then does not wait
    /// for the build (tens of milliseconds at 10,000 memories) when the user first speaks; a load for anything else
    /// (export, listing, the dashboard) still skips it.
    /// </summary>
    public void IndexInBackground()
    {
        if (LoadInBackground is { } load)
        {
            load(IndexInBackground); // a lazy load left the entries unread: read them first
            return;
        }

        if (Volatile.Read(ref _unindexed) is null || Interlocked.Exchange(ref _indexing, 1) == 1)
        {
            return;
        }

        _ = Task.Run(() =>
        {
            try
            {
                _ = Index;
            }
            catch (ArgumentException)
            {
                // Left unbuilt: the index's first use builds it again and reports the error to its caller.
            }
        });
    }

    /// <summary>The search index, with the entries a load put back added on first use.</summary>
    private HybridMemoryIndex Index
    {
        get
        {
            if (Volatile.Read(ref _unindexed) is not null)
            {
                lock (_indexLock)
                {
                    if (_unindexed is { } pending)
                    {
                        _index.UpsertMany(pending, Describe);

                        Volatile.Write(ref _unindexed, null);
                    }
                }
            }

            return _index;
        }
    }

    private static void Upsert(HybridMemoryIndex index, MemoryEntry entry)
    {
        var (id, text, embedding, time, tag) = Describe(entry);
        index.Upsert(id, text, embedding, time, tag);
    }

    private static IndexItem Describe(MemoryEntry entry)
    {
        var (text, time) = MemoryIndexText.For(entry);
        // The entry rides along as the tag, so that a search's filter reads it without a lookup by id.
        return new IndexItem(entry.Id, text, entry.Embedding, time, entry);
    }

    /// <summary>Adds or replaces an entry, recorded for the next save; with <paramref name="loading"/>, one storage holds,
    /// put back by <see cref="LoadStored"/>: not a change, and indexed at the index's first use.</summary>
    private void Insert(MemoryEntry entry, bool loading = false)
    {
        if (_entries.TryGetValue(entry.Id, out var old))
        {
            Unindex(old);
        }

        _entries[entry.Id] = entry;
        if (!loading)
        {
            _dirty.Add(entry.Id);
        }

        if (_ttl.ExpiryOf(entry) is { } expiry && expiry < _nextExpiry)
        {
            _nextExpiry = expiry;
        }

        if (entry.SupersededBy is null)
        {
            if (loading && _unindexed is { } pending)
            {
                pending.Add(entry);
            }
            else
            {
                Upsert(Index, entry);
            }

            _liveTokens += entry.TokenCount;
            if (IsProfile(entry))
            {
                _profile.Add(entry.Id);
            }

            if (!_keysPending)
            {
                AddKeys(entry);
            }
        }
    }

    private void AddKeys(MemoryEntry entry)
    {
        _byContent[ContentKey(entry)] = entry.Id;
        if (SlotKey(entry) is { } slot)
        {
            _bySlot[slot] = entry.Id;
        }
    }

    /// <summary>Adds the content and slot keys of the live entries when a load left them out.</summary>
    private void BuildKeys()
    {
        if (!_keysPending)
        {
            return;
        }

        _byContent.EnsureCapacity(_entries.Count);
        foreach (var entry in _entries.Values)
        {
            if (entry.SupersededBy is null)
            {
                AddKeys(entry);
            }
        }

        _keysPending = false;
    }

    private void Replace(MemoryEntry entry) => Insert(entry);

    private void Unindex(MemoryEntry entry)
    {
        if (entry.SupersededBy is null)
        {
            Index.Remove(entry.Id);
            _liveTokens -= entry.TokenCount;
            _profile.Remove(entry.Id);
            if (!_keysPending)
            {
                RemoveKey(_byContent, ContentKey(entry), entry.Id);
                if (SlotKey(entry) is { } slot)
                {
                    RemoveKey(_bySlot, slot, entry.Id);
                }
            }
        }
    }

    private static void RemoveKey(Dictionary<ScopedKey, string> index, ScopedKey key, string id)
    {
        if (index.TryGetValue(key, out var current) && current == id)
        {
            index.Remove(key);
        }
    }

    /// <summary>A live entry's content or slot within its scope (null scope: the whole session, as an empty one).</summary>
    private readonly record struct ScopedKey(string? Scope, string Text)
    {
        /// <summary>Content: restating a fact in other case is the same fact.</summary>
        public static readonly IEqualityComparer<ScopedKey> IgnoringCase = new Comparer(StringComparer.OrdinalIgnoreCase);

        /// <summary>Slots: identifiers such as <c>identity.name</c>.</summary>
        public static readonly IEqualityComparer<ScopedKey> Exact = new Comparer(StringComparer.Ordinal);

        private sealed class Comparer(StringComparer strings) : IEqualityComparer<ScopedKey>
        {
            public bool Equals(ScopedKey x, ScopedKey y) => strings.Equals(x.Scope ?? string.Empty, y.Scope ?? string.Empty) && strings.Equals(x.Text, y.Text);

            public int GetHashCode(ScopedKey key) => HashCode.Combine(strings.GetHashCode(key.Scope ?? string.Empty), strings.GetHashCode(key.Text));
        }
    }
}
