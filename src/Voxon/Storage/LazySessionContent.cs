using Voxon.Conversations;
using Voxon.Memory;

namespace Voxon.Storage;

/// <summary>The stored memory and transcripts of a lazily loaded session, loaded once on first use into the session's
/// memory store and conversations, or ahead of it once a conversation starts (<see cref="LoadInBackground"/>).</summary>
/// <param name="memory">The session's memory store.</param>
/// <param name="conversations">The session's conversations.</param>
/// <param name="load">Reads the whole stored session (blocking).</param>
/// <param name="gate">The session's lock, which a load in the background holds while it puts the content in place.</param>
internal sealed class LazySessionContent(MemoryStore memory, IReadOnlyList<ConversationState> conversations, Func<SessionDocument> load, Lock gate)
{
    private readonly Lock _lock = new();
    private bool _loading;

    // The read started by LoadInBackground, until the content is in place.
    private Task<SessionDocument>? _read;

    public bool Loaded { get; private set; }

    public SessionAnalyticsDocument? Analytics { get; init; }

    public int TokenCount { get; init; }

    /// <summary>The stored record counts, from the metadata; null when the stored head does not count them.</summary>
    public RecordCounts? StoredRecords { get; init; }

    public void Ensure()
    {
        lock (_lock)
        {
            if (Loaded || _loading)
            {
                return;
            }

            _loading = true;
            try
            {
                // Blocking by design: the members that need memory or transcripts are synchronous.
                var document = Read();
                memory.Hydrate = null;
                memory.LoadInBackground = null;
                memory.LoadStored(document.Memory.Entries);
                memory.ReturnChanges(document.Memory.ReembeddedIds);
                var turns = document.Conversations.ToDictionary(c => c.ConversationId, c => c.Turns, StringComparer.Ordinal);
                foreach (var state in conversations)
                {
                    state.SetStoredTurns(turns.TryGetValue(state.Id, out var stored) ? stored : []);
                }

                Loaded = true;
                _read = null;
            }
            finally
            {
                _loading = false;
            }
        }
    }

    /// <summary>
    /// Reads the content on the thread pool and puts it in place, then calls <paramref name="then"/> (which builds the
    /// search index): a conversation is starting, and its first turn needs memory, which otherwise waited for the read
    /// and the index build. Once only; nothing when the content is loaded. A read that fails is left to the first use,
    /// which reads again and reports the error to its caller.
    /// </summary>
    public void LoadInBackground(Action then)
    {
        if (Loaded || Volatile.Read(ref _read) is not null)
        {
            return;
        }

        var read = new Task<SessionDocument>(load);
        if (Interlocked.CompareExchange(ref _read, read, null) is not null)
        {
            return;
        }

        read.ContinueWith(
            finished =>
            {
                if (!finished.IsCompletedSuccessfully)
                {
                    _ = finished.Exception; // observed: the first use reads again and reports the error
                    return;
                }

                try
                {
                    // Under the session's lock, as its own members change memory and conversations.
                    lock (gate)
                    {
                        Ensure();
                    }

                    then();
                }
                catch (Exception)
                {
                    // The content stays unloaded: its first use puts it in place again and reports what failed.
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
        read.Start(TaskScheduler.Default);
    }

    /// <summary>The document read in the background (waited for if it is still being read), or, when there was no such
    /// read or it failed, the document read now.</summary>
    private SessionDocument Read()
    {
        if (Volatile.Read(ref _read) is { } read)
        {
            ((Task)read).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing).GetAwaiter().GetResult();
            if (read.IsCompletedSuccessfully)
            {
                return read.Result;
            }
        }

        return load();
    }
}
