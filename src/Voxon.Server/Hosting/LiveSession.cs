using Voxon.Conversations;
using Voxon.Sessions;

namespace Voxon.Server.Hosting;

/// <summary>A loaded session kept between requests, with the conversations open in it. Requests on one session run
/// one at a time (<see cref="Gate"/>), so a turn, a memory change and a save never interleave.</summary>
internal sealed class LiveSession(Session session)
{
    public Session Session { get; } = session;

    public SemaphoreSlim Gate { get; } = new(1, 1);

    public Dictionary<string, Conversation> Open { get; } = new(StringComparer.Ordinal);

    public long LastUsed { get; set; }

    /// <summary>Dropped from the cache (deleted, stale or evicted): a request that waited on it loads it again.</summary>
    public bool Dropped { get; set; }

    /// <summary>Conversations the client had open in the copy this one replaces (dropped from the cache, then loaded
    /// again): loading ends what was open at the last save, but the client never ended these.</summary>
    public HashSet<string> OpenBeforeReload { get; } = new(StringComparer.Ordinal);

    /// <summary>The open conversation <paramref name="conversationId"/>, resuming it when it was open at the last save
    /// (another process or a restart) or in the copy this one replaces; an ended one must be resumed explicitly.</summary>
    /// <exception cref="SessionStateException">No such conversation, or it has ended.</exception>
    public async Task<Conversation> OpenConversationAsync(string conversationId, CancellationToken cancellationToken)
    {
        if (Open.TryGetValue(conversationId, out var open) && open.IsActive)
        {
            return open;
        }

        var info = Session.Conversations.FirstOrDefault(c => c.ConversationId == conversationId)
            ?? throw new KeyNotFoundException($"Session '{Session.SessionId}' has no conversation '{conversationId}'.");
        if (info.EndedAt is not null && !OpenBeforeReload.Contains(conversationId))
        {
            throw new SessionStateException($"Conversation '{conversationId}' has ended; resume it first (POST .../conversations/{conversationId}/resume).");
        }

        Open[conversationId] = await Session.ResumeConversationAsync(conversationId, cancellationToken);
        OpenBeforeReload.Remove(conversationId);
        return Open[conversationId];
    }
}
