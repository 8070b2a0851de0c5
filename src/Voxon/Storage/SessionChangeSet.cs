using Voxon.Memory;

namespace Voxon.Storage;

/// <summary>
/// What changed in a session since its last save: the metadata (always), memory entries added, changed or
/// removed, and conversations with new turns or changed headers. Handed to
/// <see cref="SessionStorage.SaveChangesAsync"/> so a backend writes only the delta.
/// </summary>
/// <remarks>Immutable once built; safe to read from any thread.</remarks>
public sealed class SessionChangeSet
{
    private readonly Func<SessionDocument> _document;
    private SessionDocument? _built;

    /// <summary>Creates a change set.</summary>
    /// <param name="head">The session's metadata: a document whose memory entries and conversations are empty.</param>
    /// <param name="document">Builds the whole session, for backends that only know full saves.</param>
    public SessionChangeSet(SessionDocument head, Func<SessionDocument> document)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(document);
        Head = head;
        _document = document;
    }

    /// <summary>The session id.</summary>
    public string SessionId => Head.SessionId;

    /// <summary>The version this save creates (<see cref="BaseVersion"/> + 1).</summary>
    public long Version => Head.Version;

    /// <summary>The stored version the changes apply to; 0 when the session was never saved (the set then holds all of it).</summary>
    public long BaseVersion => Head.Version - 1;

    /// <summary>Metadata: ids, times, config, analytics, preferences, memory token counts. <c>Memory.Entries</c> and <c>Conversations</c> are empty.</summary>
    public SessionDocument Head { get; }

    /// <summary>Memory entries added or changed (with their embeddings).</summary>
    public IReadOnlyList<MemoryEntry> UpsertedMemories { get; init; } = [];

    /// <summary>Ids of memory entries removed (or no longer persisted).</summary>
    public IReadOnlyList<string> RemovedMemoryIds { get; init; } = [];

    /// <summary>Conversations whose header changed or that have new turns.</summary>
    public IReadOnlyList<ConversationChange> Conversations { get; init; } = [];

    /// <summary>The whole session as a document, built on first use (for backends without incremental writes).</summary>
    public SessionDocument ToDocument() => _built ??= _document();
}

/// <summary>A conversation's changes: its header, and the turns appended since the last save.</summary>
/// <param name="Conversation">The header; its <see cref="ConversationDocument.Turns"/> holds only the new turns.</param>
/// <param name="Ordinal">Position of the conversation in the session (start order).</param>
/// <param name="FirstNewTurn">Index in the transcript of the first new turn.</param>
public sealed record ConversationChange(ConversationDocument Conversation, int Ordinal, int FirstNewTurn);
