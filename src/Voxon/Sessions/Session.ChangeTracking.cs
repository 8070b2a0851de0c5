using Microsoft.Extensions.Logging;
using Voxon.Conversations;
using Voxon.Storage;

namespace Voxon.Sessions;

/// <summary>Change tracking for incremental saves, batch updates and lazy loading.</summary>
public sealed partial class Session
{
    private int _batchDepth;
    private LazySessionContent? _lazy;

    /// <summary>
    /// Starts a batch: saves requested until the batch ends are deferred, and its end makes exactly one storage
    /// write with every change made inside (the spec's <c>with session.batch_update():</c>). Batches nest; the
    /// outermost one saves. Use <c>await using</c> where possible: a synchronous <c>Dispose</c> blocks on the save.
    /// </summary>
    /// <exception cref="SessionStateException">The session is closed.</exception>
    public SessionBatch BatchUpdate()
    {
        lock (_gate)
        {
            ThrowIfClosed();
            _batchDepth++;
        }

        return new SessionBatch(this);
    }

    /// <summary>Ends a batch; the outermost one saves when the session is still open.</summary>
    internal async Task EndBatchAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (--_batchDepth > 0 || _closed)
            {
                return;
            }
        }

        await SaveIfOpenAsync(cancellationToken);
    }

    /// <summary>True when a batch is open: the save is recorded and done when the batch ends.</summary>
    private bool DeferSaveToBatch()
    {
        lock (_gate)
        {
            return _batchDepth > 0;
        }
    }

    /// <summary>Makes memory and transcripts load on first use (lazy load). <paramref name="load"/> returns the whole stored session.</summary>
    internal void LoadContentLazily(SessionDocument metadata, Func<SessionDocument> load)
    {
        _lazy = new LazySessionContent(_memory, _conversationOrder, load, _gate) { Analytics = metadata.Analytics, TokenCount = metadata.Memory.TokenCount, StoredRecords = metadata.Records };
        _memory.Hydrate = _lazy.Ensure;
        _memory.LoadInBackground = _lazy.LoadInBackground;
        foreach (var state in _conversationOrder)
        {
            state.Hydrate = _lazy.Ensure;
        }
    }

    /// <summary>Whether memory and transcripts are loaded (always, unless loaded lazily and not used yet).</summary>
    public bool IsContentLoaded => _lazy is null || _lazy.Loaded;

    /// <summary>What changed since the last save, and how to mark it saved or put it back. Caller holds the lock.</summary>
    private (SessionChangeSet Changes, SaveTracking Tracking) BeginSave(DateTimeOffset now)
    {
        var head = HeadDocument(now, IsContentLoaded ? null : _lazy!.Analytics); // owner_version null: the owner writes it
        head.Memory.TokenCount = !IsContentLoaded ? _lazy!.TokenCount : Config.MemoryMode == MemoryMode.Ephemeral ? 0 : _memory.TokenCount;
        var upserted = new List<Memory.MemoryEntry>();
        var removed = new List<string>();
        var dirty = IsContentLoaded ? _memory.TakeChanges() : [];
        var ephemeral = Config.MemoryMode == MemoryMode.Ephemeral;
        foreach (var id in dirty)
        {
            if (_memory.Find(id) is { Transient: false } entry && !ephemeral)
            {
                upserted.Add(entry);
            }
            else
            {
                removed.Add(id);
            }
        }

        // In ephemeral mode nothing of memory is stored, also what was stored before a switch to it. Entries kept out
        // only by the mode stay changed, so a switch back stores them.
        List<string> heldByMode = [];
        if (IsContentLoaded && ephemeral)
        {
            removed.AddRange(_memory.StoredIds.Where(id => !dirty.Contains(id)));
            heldByMode = [.. removed.Where(id => _memory.Find(id) is { Transient: false })];
        }

        head.Records = RecordsAfterSave(upserted, removed);

        var conversations = new List<ConversationChange>();
        var saved = new List<(ConversationState, int, (DateTimeOffset?, DateTimeOffset, int, int))>();
        for (var i = 0; i < _conversationOrder.Count; i++)
        {
            var state = _conversationOrder[i];
            var stamp = state.Stamp;
            if (stamp == state.SavedStamp && state.SavedTurnCount == stamp.Turns && state.EndedAt is not null)
            {
                continue;
            }

            var document = ConversationDocumentOf(state, now, withTurns: false);
            if (stamp.Turns > state.SavedTurnCount)
            {
                document.Turns = state.Turns.GetRange(state.SavedTurnCount, stamp.Turns - state.SavedTurnCount);
            }

            conversations.Add(new ConversationChange(document, i, state.SavedTurnCount));
            saved.Add((state, stamp.Turns, stamp));
        }

        var changes = new SessionChangeSet(head, () =>
        {
            lock (_gate)
            {
                var document = ToDocument(now);
                document.Version = head.Version;
                return document;
            }
        })
        {
            UpsertedMemories = upserted,
            RemovedMemoryIds = removed,
            Conversations = conversations,
        };
        return (changes, new SaveTracking(dirty, [.. upserted.Select(e => e.Id)], removed, heldByMode, saved));
    }

    /// <summary>What storage will hold after a save of these memory changes, so a load notices records that went
    /// missing; null while a lazy load has not read the content of a session stored without counts. Caller holds the lock.</summary>
    private RecordCounts? RecordsAfterSave(List<Memory.MemoryEntry> upserted, List<string> removed)
    {
        if (IsContentLoaded)
        {
            return new RecordCounts
            {
                Memories = _memory.StoredCountAfter(upserted.Select(e => e.Id), removed),
                Conversations = _conversationOrder.Count,
                Turns = _conversationOrder.Sum(c => c.TurnCountLoaded),
            };
        }

        // Not loaded yet: the stored transcripts are as counted, plus conversations started since (loaded by definition).
        return _lazy!.StoredRecords is { } stored
            ? new RecordCounts
            {
                Memories = stored.Memories,
                Conversations = _conversationOrder.Count,
                Turns = stored.Turns + _conversationOrder.Where(c => c.Hydrate is null).Sum(c => c.Turns.Count),
            }
            : null;
    }

    /// <summary>After the backend acknowledged the save: the sent changes are stored. Otherwise they are kept for the next save.</summary>
    private void EndSave(SaveTracking tracking, long version, bool stored)
    {
        lock (_gate)
        {
            if (!stored)
            {
                _memory.ReturnChanges(tracking.MemoryIds);
                return;
            }

            _memory.MarkStored(tracking.Upserted, tracking.Removed);
            _memory.ReturnChanges(tracking.HeldByMode);
            foreach (var (state, turns, stamp) in tracking.Conversations)
            {
                state.SavedTurnCount = turns;
                state.SavedStamp = stamp;
            }

            Interlocked.Exchange(ref _version, version);
        }
    }

    /// <summary>After a save conflict: when every version stored since ours only added notes through shares, takes those
    /// notes in (they are stored already) and moves to the stored version, so the save can be retried. False when
    /// anything else changed the session (another process saved it): the conflict stands.</summary>
    private async Task<bool> MergeSharedNotesAsync(CancellationToken cancellationToken)
    {
        var stored = await _runtime.Storage.LoadAsync(SessionId, cancellationToken);
        if (stored is null || stored.OwnerVersion != Version || stored.Version <= Version || stored.UserId != UserId)
        {
            return false;
        }

        // A lazily loaded session loads its content now, from the stored version that already holds the notes.
        _lazy?.Ensure();
        lock (_gate)
        {
            // Put (recorded): the retried save writes them again, which keeps the stored record counts exact.
            foreach (var note in stored.Memory.Entries.Where(e => e.Source == Memory.MemorySource.Note && _memory.Find(e.Id) is null))
            {
                _memory.Put(note);
            }

            Interlocked.Exchange(ref _version, stored.Version);
        }

        _logger.LogInformation("Session {SessionId}: merged notes added through shares up to version {Version} before saving.", SessionId, stored.Version);
        return true;
    }

    /// <summary>Marks a freshly loaded session as stored.</summary>
    private void MarkLoaded()
    {
        _memory.TakeChanges();
        foreach (var state in _conversationOrder)
        {
            state.SavedTurnCount = state.TurnCountLoaded;
            state.SavedStamp = state.Stamp;
        }
    }

    private sealed record SaveTracking(HashSet<string> MemoryIds, List<string> Upserted, List<string> Removed, List<string> HeldByMode, List<(ConversationState State, int Turns, (DateTimeOffset?, DateTimeOffset, int, int) Stamp)> Conversations);
}
