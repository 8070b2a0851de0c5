using Microsoft.Extensions.AI;
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

    private readonly List<AIFunction> _tools = [];
    private IReadOnlyList<AIFunction>? _memoryTools;
    private readonly Memory.Search.EmbeddingCache _embeddings = new(VoxonRuntime.SessionEmbeddingCacheCapacity);

    Lock ITurnHost.Gate => _gate;

    Memory.Search.EmbeddingCache ITurnHost.Embeddings => _embeddings;

    /// <summary>Offers <paramref name="tool"/> to the model in this session's turns when <see cref="SessionConfig.EnableFunctions"/>
    /// is on (beside <see cref="VoxonOptions.Tools"/> and the built-in memory tools). A tool that throws, or gets arguments
    /// it cannot bind, reports the error to the model and the turn goes on. Not persisted: register it again after loading.</summary>
    /// <exception cref="ArgumentException">A tool with that name is already registered.</exception>
    public void AddTool(AIFunction tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        lock (_gate)
        {
            if (_tools.Any(t => t.Name == tool.Name))
            {
                throw new ArgumentException($"Session '{SessionId}' already has a tool named '{tool.Name}'.", nameof(tool));
            }

            _tools.Add(tool);
        }
    }

    IReadOnlyList<AITool> ITurnHost.SessionTools()
    {
        var memoryTools = LazyInitializer.EnsureInitialized(ref _memoryTools, () => MemoryTools.For(this));
        lock (_gate)
        {
            // A tool registered under a built-in's name replaces the built-in.
            return [.. _tools, .. memoryTools.Where(m => !_tools.Any(t => t.Name == m.Name))];
        }
    }

    void ITurnHost.ThrowIfNotOpen(ConversationState state) => ThrowIfNotOpen(state);

    WeaveRequest ITurnHost.WeaveRequestFor(ConversationState state, string words, float[] embedding, DateTimeOffset now)
    {
        DropExpired(now);
        return new WeaveRequest(_memory, words, embedding, e => RelationTo(e, state), Config.ContextTokenBudget, now,
            TemplateContext: TemplateContext, StyleGuidance: StyleGuidance());
    }

    List<ConversationTurn> ITurnHost.HistoryOf(ConversationState state) => HistoryOf(state);

    IReadOnlyList<ExtractedFact> ITurnHost.AllowedFacts(IReadOnlyList<ExtractedFact> facts) => AllowedFacts(facts);

    MemoryChange ITurnHost.AddExtracted(ExtractedFact fact, ConversationState state, string? context, DateTimeOffset now) =>
        _memory.Add(NewEntry(fact, MemorySource.Extracted, now, state, []) with { Context = context }, now);

    PendingEmbeddings ITurnHost.PendingEmbeddings => _pendingEmbeddings;

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
