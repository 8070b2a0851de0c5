using Microsoft.Extensions.AI;
using Voxon.Context;
using Voxon.Conversations;
using Voxon.Memory;
using Voxon.Sessions;

namespace Voxon.Turns;

/// <summary>
/// The session state a turn reads and writes, handed to <see cref="TurnPipeline"/> explicitly. <see cref="Session"/>
/// implements it over its own fields. Members marked "caller holds <see cref="Gate"/>" must be called under it;
/// the Raise members must be called without it (handlers run outside the lock).
/// </summary>
internal interface ITurnHost
{
    string SessionId { get; }

    SessionConfig Config { get; }

    /// <summary>Guards the session's state.</summary>
    Lock Gate { get; }

    /// <summary>The embeddings of this session's recent words and facts, so words said again skip the model.</summary>
    Memory.Search.EmbeddingCache Embeddings { get; }

    /// <summary>Throws <see cref="SessionStateException"/> when the session is closed or the conversation ended. Caller holds <see cref="Gate"/>.</summary>
    void ThrowIfNotOpen(ConversationState state);

    /// <summary>What ContextWeaver needs to weave context for <paramref name="words"/> in <paramref name="state"/>
    /// (expired memories dropped first). Caller holds <see cref="Gate"/>.</summary>
    WeaveRequest WeaveRequestFor(ConversationState state, string words, float[] embedding, DateTimeOffset now);

    /// <summary>The messages the model gets as history (a branch starts with its parent's turns). Caller holds <see cref="Gate"/>.</summary>
    List<ConversationTurn> HistoryOf(ConversationState state);

    /// <summary>Extracted facts the session may keep (template categories). Thread-safe.</summary>
    IReadOnlyList<ExtractedFact> AllowedFacts(IReadOnlyList<ExtractedFact> facts);

    /// <summary>Stores a fact extracted from <paramref name="state"/>'s turn, indexed with <paramref name="context"/>
    /// (<see cref="MemoryEntry.Context"/>; null for none), without its embedding (<see cref="PendingEmbeddings"/> adds it).
    /// Caller holds <see cref="Gate"/>.</summary>
    MemoryChange AddExtracted(ExtractedFact fact, ConversationState state, string? context, DateTimeOffset now);

    /// <summary>Embeds the facts turns recorded, in the background. Thread-safe.</summary>
    PendingEmbeddings PendingEmbeddings { get; }

    /// <summary>Updates analytics and learning after turns were appended to <paramref name="state"/>; either turn may be
    /// null (a cancelled turn has no reply, an externally produced reply may come alone). Caller holds <see cref="Gate"/>.</summary>
    void OnTurnRecorded(ConversationState state, ConversationTurn? user, ConversationTurn? assistant, DateTimeOffset now);

    /// <summary>Counts an interruption for adaptation (shorter replies). Caller holds <see cref="Gate"/>.</summary>
    void OnInterrupted(DateTimeOffset now);

    /// <summary>The session's own functions and the built-in memory tools, for a turn with functions enabled. Thread-safe.</summary>
    IReadOnlyList<AITool> SessionTools();

    /// <summary>Raises an event. Call without holding <see cref="Gate"/>.</summary>
    void Raise(string type, object? data);

    /// <summary>Raises memory.added/superseded/evicted/over_budget for <paramref name="changes"/>. Call without holding <see cref="Gate"/>.</summary>
    void RaiseMemoryChanges(IEnumerable<MemoryChange> changes);

    /// <summary>Raises milestone and preference events queued under the lock. Call without holding <see cref="Gate"/>.</summary>
    void RaisePendingInsights();
}
