using System.Diagnostics;
using Voxon.Conversations;
using Voxon.Diagnostics;
using Voxon.Events;
using Voxon.Memory;
using Voxon.Security;
using Voxon.Sessions;

namespace Voxon.Turns;

/// <summary>
/// The one turn pipeline every path uses: redact, embed, weave (<see cref="PrepareAsync"/>), respond (whole, streamed,
/// or produced elsewhere, e.g. by a realtime model), then record the exchange as heard, extract memories, update
/// analytics and raise events (<see cref="RecordAsync"/>). It works on the session state through <see cref="ITurnHost"/>,
/// holds the session's lock only around in-memory steps, and raises events outside it.
/// </summary>
internal sealed class TurnPipeline(VoxonRuntime runtime, ITurnHost host)
{
    /// <summary>Longest accepted user message, in characters.</summary>
    internal const int MaxMessageLength = 32_000;

    /// <summary>Checks the user's message and its audio duration before anything else happens.</summary>
    /// <exception cref="ArgumentException">Empty or longer than <see cref="MaxMessageLength"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive audio duration.</exception>
    public static void Validate(string text, TimeSpan? audio)
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
    }

    /// <summary>Redacts (when enabled), embeds the words and weaves the context for them, with the history the model gets.</summary>
    /// <exception cref="SessionStateException">The session is closed or the conversation ended.</exception>
    public async Task<TurnInput> PrepareAsync(ConversationState state, string words, TimeSpan? audio, CancellationToken cancellationToken)
    {
        if (host.Config.RedactPii)
        {
            words = Redaction.RedactPii(words).Text;
        }

        var embedding = await runtime.EmbedAsync(words, cancellationToken);
        lock (host.Gate)
        {
            host.ThrowIfNotOpen(state);
            var now = runtime.Time.GetUtcNow();
            var context = runtime.Weaver.Weave(host.WeaveRequestFor(state, words, embedding, now));
            return new TurnInput(words, embedding, context, host.HistoryOf(state), audio);
        }
    }

    /// <summary>Starts extracting memories from the user's words. It needs only those words, so it runs alongside the
    /// reply instead of after it; it never throws except on cancellation (the model extractor falls back to the offline rules).</summary>
    public Task<IReadOnlyList<ExtractedFact>> StartExtraction(string words, CancellationToken cancellationToken) =>
        runtime.Extractor is { } extractor
            ? extractor.ExtractAsync(words, cancellationToken)
            : Task.FromResult(MemoryExtractor.Extract(words));

    /// <summary>
    /// Records an exchange as the user heard it: the user's words (when <paramref name="input"/> is given) and the reply
    /// (when <paramref name="reply"/> is given, stored as heard with the generated text beside it), stores the facts of
    /// <paramref name="extraction"/> (from the user's words only, so nothing unheard feeds memory), updates analytics
    /// and learning, and raises message and memory events outside the lock.
    /// </summary>
    /// <returns>The turns recorded.</returns>
    public async Task<(ConversationTurn? User, ConversationTurn? Assistant)> RecordAsync(
        Conversation conversation,
        TurnInput? input,
        TurnReply? reply,
        Task<IReadOnlyList<ExtractedFact>>? extraction,
        CancellationToken cancellationToken)
    {
        var facts = extraction is null ? [] : host.AllowedFacts(await extraction);
        var factEmbeddings = await runtime.EmbedAsync([.. facts.Select(f => f.Content)], cancellationToken);
        var state = conversation.State;
        ConversationTurn? userTurn = null, assistantTurn = null;
        var changes = new List<MemoryChange>();
        lock (host.Gate)
        {
            var now = runtime.Time.GetUtcNow();
            if (input is not null)
            {
                userTurn = new ConversationTurn
                {
                    Role = TurnRole.User,
                    Content = input.Words,
                    Timestamp = now,
                    InjectedMemoryIds = input.Context.Injected.Count == 0 ? null : [.. input.Context.Injected.Select(i => i.MemoryId)],
                    AudioSeconds = input.Audio?.TotalSeconds,
                };
                state.Turns.Add(userTurn);
                state.InjectionCount += input.Context.Injected.Count;
                conversation.LastContext = input.Context;
            }

            if (reply is not null)
            {
                assistantTurn = AssistantTurn(reply, now);
                state.Turns.Add(assistantTurn);
                if (reply.Interrupted)
                {
                    host.OnInterrupted(now);
                }
            }

            state.LastActivityAt = now;
            for (var i = 0; i < facts.Count; i++)
            {
                changes.Add(host.AddExtracted(facts[i], state, factEmbeddings[i], now));
            }

            host.OnTurnRecorded(state, userTurn, assistantTurn, now);
        }

        if (userTurn is not null)
        {
            host.Raise(SessionEventNames.MessageReceived, userTurn);
        }

        if (assistantTurn is not null)
        {
            host.Raise(SessionEventNames.MessageSent, assistantTurn);
            if (assistantTurn.Interrupted)
            {
                AnalyticsTelemetry.Interruptions.Add(1);
                host.Raise(SessionEventNames.ConversationInterrupted, assistantTurn);
            }
        }

        host.RaiseMemoryChanges(changes);
        host.RaisePendingInsights();
        return (userTurn, assistantTurn);
    }

    /// <summary>A whole text turn: the reply once the model has finished.</summary>
    public async Task<string> SendAsync(Conversation conversation, string text, TimeSpan? audio, CancellationToken cancellationToken)
    {
        Validate(text, audio);
        var state = conversation.State;
        await conversation.TurnGate.WaitAsync(cancellationToken);
        using var activity = StartActivity(state);
        var started = runtime.Time.GetTimestamp();
        try
        {
            var input = await PrepareAsync(state, text, audio, cancellationToken);
            var extraction = StartExtraction(input.Words, cancellationToken);
            var answer = await runtime.Engine.RespondAsync(host.Config, input.Context.Text, input.History, input.Words, cancellationToken);
            var reply = new TurnReply { Generated = answer.Text, ResponseTimeMs = answer.ResponseTimeMs };
            var (_, assistant) = await RecordAsync(conversation, input, reply, extraction, cancellationToken);
            ObserveTurn(assistant!, started);
            return answer.Text;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not SessionStateException and not ArgumentException)
        {
            Fail(activity, ex);
            throw;
        }
        finally
        {
            conversation.TurnGate.Release();
        }
    }

    private static ConversationTurn AssistantTurn(TurnReply reply, DateTimeOffset now) => new()
    {
        Role = TurnRole.Assistant,
        Content = reply.Heard ?? reply.Generated,
        Timestamp = now,
        ResponseTimeMs = reply.ResponseTimeMs,
        Interrupted = reply.Interrupted,
    };

    private Activity? StartActivity(ConversationState state)
    {
        var activity = VoxonTelemetry.Source.StartActivity("voxon.turn");
        activity?.SetTag("voxon.session_id", host.SessionId);
        activity?.SetTag("voxon.conversation_id", state.Id);
        return activity;
    }

    /// <summary>Turn metrics: count, model time, and Voxon's own time around the model.</summary>
    private void ObserveTurn(ConversationTurn assistant, long started)
    {
        var responseMs = assistant.ResponseTimeMs ?? 0;
        VoxonTelemetry.Turns.Add(1);
        VoxonTelemetry.ResponseTime.Record(responseMs);
        VoxonTelemetry.TurnOverhead.Record(Math.Max(0, runtime.Time.GetElapsedTime(started).TotalMilliseconds - responseMs));
    }

    private void Fail(Activity? activity, Exception ex)
    {
        VoxonTelemetry.Errors.Add(1);
        activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
        host.Raise(SessionEventNames.Error, ex.Message);
    }
}
