using Voxon.Context;
using Voxon.Conversations;
using Voxon.Memory;
using Voxon.Turns;

namespace Voxon.Sessions;

// The session's side of a turn: the state TurnPipeline works on (ITurnHost). The turn itself lives in Turns/.
public sealed partial class Session : ITurnHost
{
    /// <summary>Longest accepted user message, in characters.</summary>
    public const int MaxMessageLength = TurnPipeline.MaxMessageLength;

    /// <summary>The turn pipeline over this session's state; every turn path (text, streamed, realtime) goes through it.</summary>
    internal TurnPipeline Turns { get; }

    Lock ITurnHost.Gate => _gate;

    void ITurnHost.ThrowIfNotOpen(ConversationState state) => ThrowIfNotOpen(state);

    WeaveRequest ITurnHost.WeaveRequestFor(ConversationState state, string words, float[] embedding, DateTimeOffset now)
    {
        DropExpired(now);
        return new WeaveRequest(_memory, words, embedding, e => RelationTo(e, state), Config.ContextTokenBudget, now,
            TemplateContext: TemplateContext, StyleGuidance: StyleGuidance());
    }

    List<ConversationTurn> ITurnHost.HistoryOf(ConversationState state) => HistoryOf(state);

    IReadOnlyList<ExtractedFact> ITurnHost.AllowedFacts(IReadOnlyList<ExtractedFact> facts) => AllowedFacts(facts);

    MemoryChange ITurnHost.AddExtracted(ExtractedFact fact, ConversationState state, float[] embedding, DateTimeOffset now) =>
        _memory.Add(NewEntry(fact, MemorySource.Extracted, now, state, embedding), now);

    void ITurnHost.OnTurnRecorded(ConversationState state, ConversationTurn? user, ConversationTurn? assistant, DateTimeOffset now)
    {
        UpdatedAt = now;
        OnTurnRecorded(state, user, assistant);
    }

    void ITurnHost.Raise(string type, object? data) => Raise(type, data);

    void ITurnHost.RaiseMemoryChanges(IEnumerable<MemoryChange> changes) => RaiseMemoryChanges(changes);

    void ITurnHost.RaisePendingInsights() => RaisePendingInsights();

    /// <summary>Hook for analytics and adaptation after a turn is recorded. Caller holds the lock.</summary>
    partial void OnTurnRecorded(ConversationState state, ConversationTurn? user, ConversationTurn? assistant);

    /// <summary>Style guidance for the engine from overrides and learned preferences; null when there is none. Caller holds the lock.</summary>
    private string? StyleGuidance()
    {
        if (!Config.EnableAdaptation)
        {
            return null;
        }

        return Adaptation.StyleGuide.Render(Adaptation.PreferenceLearner.Effective(_learner.Learned(), _preferences), _preferences, _learner.Ready);
    }

    private void ThrowIfNotOpen(ConversationState state)
    {
        ThrowIfClosed();
        if (state.EndedAt is not null || !_open.ContainsKey(state.Id))
        {
            throw new SessionStateException($"Conversation '{state.Id}' has ended; resume it with ResumeConversationAsync(\"{state.Id}\") or start a new one.");
        }
    }

    /// <summary>How <paramref name="entry"/>'s scope relates to <paramref name="state"/> (branch scoping).</summary>
    private ScopeRelation RelationTo(MemoryEntry entry, ConversationState state)
    {
        if (entry.Scope is null || IsSelfOrAncestor(entry.Scope, state))
        {
            return ScopeRelation.Own;
        }

        return _conversations.TryGetValue(entry.Scope, out var scope) && IsSelfOrAncestor(state.Id, scope)
            ? ScopeRelation.Descendant
            : ScopeRelation.Hidden;
    }
}
