using System.Diagnostics;
using Voxon.Context;
using Voxon.Conversations;
using Voxon.Diagnostics;
using Voxon.Events;
using Voxon.Memory;
using Voxon.Security;

namespace Voxon.Sessions;

public sealed partial class Session
{
    /// <summary>Longest accepted user message, in characters.</summary>
    public const int MaxMessageLength = 32_000;

    /// <summary>One turn: redact, weave context, call the engine, record, extract memories, raise events.</summary>
    internal async Task<string> RunTurnAsync(Conversation conversation, string text, TimeSpan? audio, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        if (text.Length > MaxMessageLength)
        {
            throw new ArgumentException($"A message may have at most {MaxMessageLength} characters; this one has {text.Length}.", nameof(text));
        }

        if (audio is { } duration && duration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(audio), "The audio duration must be positive.");
        }

        var state = conversation.State;
        await conversation.TurnGate.WaitAsync(cancellationToken);
        using var activity = VoxonTelemetry.Source.StartActivity("voxon.turn");
        activity?.SetTag("voxon.session_id", SessionId);
        activity?.SetTag("voxon.conversation_id", state.Id);
        var started = _runtime.Time.GetTimestamp();
        try
        {
            ThrowIfNotOpen(state);
            if (Config.RedactPii)
            {
                text = Redaction.RedactPii(text).Text;
            }

            var embedding = await _runtime.EmbedAsync(text, cancellationToken);
            WovenContext context;
            List<ConversationTurn> history;
            lock (_gate)
            {
                ThrowIfNotOpen(state);
                var now = _runtime.Time.GetUtcNow();
                DropExpired(now);
                context = _runtime.Weaver.Weave(new WeaveRequest(
                    _memory,
                    text,
                    embedding,
                    e => RelationTo(e, state),
                    Config.ContextTokenBudget,
                    now,
                    TemplateContext: TemplateContext,
                    StyleGuidance: StyleGuidance()));
                history = HistoryOf(state);
            }

            // Model extraction needs only the user's words, so it runs alongside the reply instead of after it:
            // the turn takes as long as the slower of the two calls, not their sum. It never throws (it falls back
            // to the offline rules), so an engine failure leaves no unobserved fault behind.
            var extraction = _runtime.Extractor is { } extractor
                ? extractor.ExtractAsync(text, cancellationToken)
                : Task.FromResult(MemoryExtractor.Extract(text));
            var reply = await _runtime.Engine.RespondAsync(Config, context.Text, history, text, cancellationToken);
            var facts = AllowedFacts(await extraction);
            var factEmbeddings = await _runtime.EmbedAsync([.. facts.Select(f => f.Content)], cancellationToken);

            ConversationTurn userTurn, assistantTurn;
            var changes = new List<MemoryChange>();
            lock (_gate)
            {
                var now = _runtime.Time.GetUtcNow();
                userTurn = new ConversationTurn
                {
                    Role = TurnRole.User,
                    Content = text,
                    Timestamp = now,
                    InjectedMemoryIds = context.Injected.Count == 0 ? null : [.. context.Injected.Select(i => i.MemoryId)],
                    Injections = context.Injected.Count == 0 ? null : context.Injected,
                    Context = new ContextUsage(context.TokenCount, Config.ContextTokenBudget),
                    AudioSeconds = audio?.TotalSeconds,
                };
                assistantTurn = new ConversationTurn
                {
                    Role = TurnRole.Assistant,
                    Content = reply.Text,
                    Timestamp = now,
                    ResponseTimeMs = reply.ResponseTimeMs,
                };
                state.Turns.Add(userTurn);
                state.Turns.Add(assistantTurn);
                state.InjectionCount += context.Injected.Count;
                state.LastActivityAt = now;
                UpdatedAt = now;
                for (var i = 0; i < facts.Count; i++)
                {
                    changes.Add(_memory.Add(NewEntry(facts[i], MemorySource.Extracted, now, state, factEmbeddings[i]), now));
                }

                conversation.LastContext = context;
                OnTurnRecorded(state, userTurn, assistantTurn);
            }

            Raise(SessionEventNames.MessageReceived, userTurn);
            Raise(SessionEventNames.MessageSent, assistantTurn);
            RaiseMemoryChanges(changes);
            RaisePendingInsights();
            VoxonTelemetry.Turns.Add(1);
            VoxonTelemetry.ResponseTime.Record(reply.ResponseTimeMs);
            VoxonTelemetry.TurnOverhead.Record(Math.Max(0, _runtime.Time.GetElapsedTime(started).TotalMilliseconds - reply.ResponseTimeMs));
            return reply.Text;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not SessionStateException and not ArgumentException)
        {
            VoxonTelemetry.Errors.Add(1);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            Raise(SessionEventNames.Error, ex.Message);
            throw;
        }
        finally
        {
            conversation.TurnGate.Release();
        }
    }

    /// <summary>Hook for analytics and adaptation after a turn is recorded. Caller holds the lock.</summary>
    partial void OnTurnRecorded(ConversationState state, ConversationTurn user, ConversationTurn assistant);

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
