using Voxon.Conversations;
using Voxon.Memory;

namespace Voxon.Storage;

/// <summary>The stored memory and transcripts of a lazily loaded session, loaded once on first use into the session's
/// memory store and conversations.</summary>
internal sealed class LazySessionContent(MemoryStore memory, IReadOnlyList<ConversationState> conversations, Func<SessionDocument> load)
{
    private readonly Lock _lock = new();
    private bool _loading;

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
                var document = load();
                memory.Hydrate = null;
                memory.LoadStored(document.Memory.Entries);
                memory.ReturnChanges(document.Memory.ReembeddedIds);
                var turns = document.Conversations.ToDictionary(c => c.ConversationId, c => c.Turns, StringComparer.Ordinal);
                foreach (var state in conversations)
                {
                    state.SetStoredTurns(turns.TryGetValue(state.Id, out var stored) ? stored : []);
                }

                Loaded = true;
            }
            finally
            {
                _loading = false;
            }
        }
    }
}
