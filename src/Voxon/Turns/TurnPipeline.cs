using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text;
using Microsoft.Extensions.AI;
using Voxon.Context;
using Voxon.Conversations;
using Voxon.Diagnostics;
using Voxon.Engine;
using Voxon.Events;
using Voxon.Memory;
using Voxon.Security;
using Voxon.Sessions;

namespace Voxon.Turns;

/// <summary>
/// The one turn pipeline every path uses: redact, embed, weave (<see cref="PrepareAsync(ConversationState, string, TimeSpan?, CancellationToken)"/>), respond (whole, streamed,
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

        WellFormedText.Check(text, "The message", nameof(text));

        if (audio is { } duration && duration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(audio), "The audio duration must be positive.");
        }
    }

    /// <summary>The user's words as they are recorded and given to the model: redacted when the session redacts personal data.</summary>
    public string Redact(string words) => host.Config.RedactPii ? Redaction.RedactPii(words).Text : words;

    /// <summary>Embeds what a turn with <paramref name="text"/> would embed (the words as redacted, as a query) into the
    /// session's cache, so that turn skips the model's encode. Nothing is recorded, raised or changed otherwise.</summary>
    /// <remarks>The woven context is not kept: memories and history may change before the turn, and weaving is cheap
    /// beside the encode.</remarks>
    /// <exception cref="ArgumentException">As for a turn's text.</exception>
    /// <exception cref="SessionStateException">The session is closed or the conversation ended.</exception>
    public async Task PrepareWordsAsync(ConversationState state, string text, CancellationToken cancellationToken)
    {
        Validate(text, null);
        lock (host.Gate)
        {
            host.ThrowIfNotOpen(state);
        }

        await runtime.EmbedQueryAsync(Redact(text), host.Embeddings, cancellationToken);
    }

    /// <summary>Embeds the (already redacted) words and weaves the context for them, with the history the model gets.</summary>
    /// <remarks>The embedding is on the path to the first token: semantic search needs it to pick the memories the reply
    /// should know, and a reply that starts before its context exists cannot use it.</remarks>
    /// <exception cref="SessionStateException">The session is closed or the conversation ended.</exception>
    public Task<TurnInput> PrepareAsync(ConversationState state, string words, TimeSpan? audio, CancellationToken cancellationToken) =>
        PrepareAsync(state, words, audio, excludeSensitive: false, cancellationToken);

    /// <summary>As <see cref="PrepareAsync(ConversationState, string, TimeSpan?, CancellationToken)"/>; with
    /// <paramref name="excludeSensitive"/>, sensitive memories stay out of the context altogether (realtime instructions).</summary>
    public Task<TurnInput> PrepareAsync(ConversationState state, string words, TimeSpan? audio, bool excludeSensitive, CancellationToken cancellationToken) =>
        PrepareAsync(state, words, audio, excludeSensitive, withHistory: true, cancellationToken);

    /// <summary>As <see cref="PrepareAsync(ConversationState, string, TimeSpan?, bool, CancellationToken)"/>; without
    /// <paramref name="withHistory"/>, the input's history is empty (see <see cref="Weave"/>).</summary>
    public async Task<TurnInput> PrepareAsync(ConversationState state, string words, TimeSpan? audio, bool excludeSensitive, bool withHistory, CancellationToken cancellationToken)
    {
        var embedding = await runtime.EmbedQueryAsync(words, host.Embeddings, cancellationToken);
        return Weave(state, words, embedding, audio, excludeSensitive, withHistory);
    }

    /// <summary>Weaves the context for words already embedded, or, with an empty <paramref name="embedding"/>, for the
    /// words alone (lexical search: what is ready before the embedding, for a live session that is already answering).
    /// Without <paramref name="withHistory"/> the history is left empty: a live session holds its own dialogue, and copying
    /// the whole conversation on every weave cost time and allocations growing with its length.</summary>
    /// <exception cref="SessionStateException">The session is closed or the conversation ended.</exception>
    public TurnInput Weave(ConversationState state, string words, float[] embedding, TimeSpan? audio, bool excludeSensitive, bool withHistory = true)
    {
        lock (host.Gate)
        {
            host.ThrowIfNotOpen(state);
            var now = runtime.Time.GetUtcNow();
            var context = runtime.Weaver.Weave(host.WeaveRequestFor(state, words, embedding, now) with { ExcludeSensitive = excludeSensitive });
            return new TurnInput(words, embedding, context, withHistory ? host.HistoryOf(state) : [], audio);
        }
    }

    /// <summary>The conversation so far as the model sees it (its branch's history included).</summary>
    public IReadOnlyList<ConversationTurn> History(ConversationState state)
    {
        lock (host.Gate)
        {
            return host.HistoryOf(state);
        }
    }

    /// <summary>The context of a conversation's opening, before the user has said anything: profile facts, style guidance and
    /// template context (no words to search memory with). Sensitive memories stay out (it opens realtime sessions).</summary>
    /// <exception cref="SessionStateException">The session is closed or the conversation ended.</exception>
    public Context.WovenContext WeaveOpening(ConversationState state)
    {
        lock (host.Gate)
        {
            host.ThrowIfNotOpen(state);
            var now = runtime.Time.GetUtcNow();
            return runtime.Weaver.Weave(host.WeaveRequestFor(state, string.Empty, [], now) with { ExcludeSensitive = true });
        }
    }

    /// <summary>Starts the model's extraction of memories from the user's words, or null when the offline rules extract
    /// (<see cref="RecordAsync"/> applies them then). A model call needs only the words, so it runs alongside the reply
    /// instead of after it; the offline rules are synchronous work that would only delay the first token. It never throws
    /// except on cancellation (the model extractor falls back to the offline rules).</summary>
    public Task<IReadOnlyList<ExtractedFact>>? StartExtraction(string words, CancellationToken cancellationToken) =>
        runtime.Extractor?.ExtractAsync(words, cancellationToken);

    /// <summary>
    /// Records an exchange as the user heard it: the user's words (when <paramref name="input"/> is given) and the reply
    /// (when <paramref name="reply"/> is given, stored as heard with the generated text beside it), stores the facts of
    /// <paramref name="extraction"/> (from <see cref="StartExtraction"/>; null applies the offline rules) read from the
    /// user's words only, so nothing unheard feeds memory, updates analytics
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
        var facts = input is null ? [] : host.AllowedFacts(await FactsAsync(extraction, input.Words));
        var state = conversation.State;
        ConversationTurn? userTurn = null, assistantTurn = null;
        var changes = new List<MemoryChange>();
        lock (host.Gate)
        {
            host.ThrowIfNotOpen(state);
            var now = runtime.Time.GetUtcNow();
            var context = facts.Count == 0 ? null : ReplyContext(state);
            if (input is not null)
            {
                userTurn = new ConversationTurn
                {
                    Role = TurnRole.User,
                    Content = input.Words,
                    Timestamp = now,
                    InjectedMemoryIds = input.Context.Injected.Count == 0 ? null : [.. input.Context.Injected.Select(i => i.MemoryId)],
                    Injections = input.Context.Injected.Count == 0 ? null : input.Context.Injected,
                    Context = new ContextUsage(input.Context.TokenCount, host.Config.ContextTokenBudget),
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
                changes.Add(host.AddExtracted(facts[i], state, context, now));
            }

            // New facts are embedded after the turn (see PendingEmbeddings): their words find them meanwhile.
            host.PendingEmbeddings.Start([.. changes.Where(c => !c.Duplicate).Select(c => c.Entry)]);

            host.OnTurnRecorded(state, userTurn, assistantTurn, now);
        }

        if (userTurn is not null)
        {
            host.Raise(SessionEventNames.MessageReceived, userTurn);
        }

        if (assistantTurn is not null)
        {
            foreach (var call in assistantTurn.ToolCalls ?? [])
            {
                host.Raise(SessionEventNames.MessageToolCall, call);
            }

            host.Raise(SessionEventNames.MessageSent, assistantTurn);
            if (assistantTurn.Interrupted)
            {
                runtime.Telemetry.Add(AnalyticsTelemetry.Interruptions);
                host.Raise(SessionEventNames.ConversationInterrupted, assistantTurn);
            }
        }

        host.RaiseMemoryChanges(changes);
        host.RaisePendingInsights();
        return (userTurn, assistantTurn);
    }

    /// <summary>
    /// The indexed context of memories extracted from the user's next words: the end of the assistant's reply they
    /// answer, as heard, so that "yes, the red one" is found by the question it answers (dialogue memories loaded through
    /// AddMemory get their neighbouring turn the same way). Null when the conversation's last turn is not a reply with
    /// words. Caller holds the gate.
    /// </summary>
    private string? ReplyContext(ConversationState state)
    {
        if (state.Turns.Count == 0 || state.Turns[^1] is not { Role: TurnRole.Assistant, Content: var heard } || string.IsNullOrWhiteSpace(heard))
        {
            return null;
        }

        // A long reply's last sentences are what the user answers; the whole of it would dilute the memory's own words.
        var text = heard.Trim();
        if (text.Length > ReplyContextLength)
        {
            var start = text.Length - ReplyContextLength;
            var space = text.IndexOf(' ', start);
            text = space > 0 && space < text.Length - 1 ? text[(space + 1)..] : text[start..];
        }

        return Redact(text);
    }

    /// <summary>The most characters of a reply that <see cref="ReplyContext"/> keeps.</summary>
    private const int ReplyContextLength = 300;

    /// <summary>A whole text turn: the reply once the model has finished. An interruption while it runs returns what was heard (nothing).</summary>
    public async Task<string> SendAsync(Conversation conversation, string text, TimeSpan? audio, CancellationToken cancellationToken)
    {
        var reply = new StringBuilder();
        await foreach (var chunk in RunAsync(conversation, text, audio, stream: false, cancellationToken))
        {
            reply.Append(chunk);
        }

        return reply.ToString();
    }

    /// <summary>A streamed turn: the reply's text chunks as the model produces them. See <see cref="RunAsync"/>.</summary>
    public IAsyncEnumerable<string> StreamAsync(Conversation conversation, string text, TimeSpan? audio, CancellationToken cancellationToken) =>
        RunAsync(conversation, text, audio, stream: true, cancellationToken);

    /// <summary>
    /// Interrupts the conversation's reply: the one being produced (it stops, and is recorded as heard), or else the
    /// last recorded one (amended to what was heard, the generated text kept beside it).
    /// </summary>
    /// <returns>False when there is no reply to interrupt, or the last one is already marked interrupted.</returns>
    public bool Interrupt(Conversation conversation, Interruption interruption) =>
        conversation.ActiveReply?.TryInterrupt(interruption) ?? Amend(conversation, interruption, null);

    /// <summary>Amends a recorded reply to what was heard: <paramref name="reply"/>, or the last one when null.</summary>
    /// <returns>False when there is no such reply, or it is already marked interrupted.</returns>
    private bool Amend(Conversation conversation, Interruption interruption, ConversationTurn? reply)
    {
        ConversationTurn amended;
        var state = conversation.State;
        lock (host.Gate)
        {
            host.ThrowIfNotOpen(state);
            var index = reply is null
                ? state.Turns.FindLastIndex(t => t.Role == TurnRole.Assistant)
                : state.Turns.FindLastIndex(t => ReferenceEquals(t, reply));
            if (index < 0 || state.Turns[index].Interrupted)
            {
                return false;
            }

            var turn = state.Turns[index];
            var heard = interruption.Heard(turn.Content);
            amended = turn with { Content = heard, Interrupted = true, GeneratedContent = heard == turn.Content ? null : turn.Content };
            state.Turns[index] = amended;
            state.TurnsChangedFrom(index);
            host.OnInterrupted(runtime.Time.GetUtcNow());
        }

        runtime.Telemetry.Add(AnalyticsTelemetry.Interruptions);
        host.Raise(SessionEventNames.ConversationInterrupted, amended);
        host.RaisePendingInsights();
        return true;
    }

    /// <summary>
    /// One turn, whole or streamed. The context is woven before the model is called; the turn is recorded once, when
    /// the reply completes, is interrupted (as heard), is cancelled (even while queued behind another turn) or is
    /// abandoned by the caller (the user's words, and the part of the reply already delivered, marked interrupted).
    /// A failure of the model records nothing.
    /// </summary>
    private async IAsyncEnumerable<string> RunAsync(Conversation conversation, string text, TimeSpan? audio, bool stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Validate(text, audio);
        var state = conversation.State;
        try
        {
            await conversation.TurnGate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled while waiting behind another turn: the words were said all the same. They are recorded (below,
            // as any turn cancelled before its context is woven) once the turn ahead is, so the transcript keeps the
            // order they were said in; the cancellation is reported then.
            await conversation.TurnGate.WaitAsync(CancellationToken.None);
        }

        using var activity = StartActivity(state);
        var started = runtime.Time.GetTimestamp();
        using var reply = new ActiveReply(cancellationToken);
        conversation.ActiveReply = reply;
        var words = Redact(text);
        TurnInput? input = null;
        Task<IReadOnlyList<ExtractedFact>>? extraction = null;
        Exception? failure = null;
        var generated = new StringBuilder();
        ToolCallLog? tools = null;
        double? firstChunkMs = null;
        long modelStarted = 0;
        var completed = false;
        try
        {
            try
            {
                input = await PrepareAsync(state, words, audio, reply.Token);
            }
            catch (OperationCanceledException) when (reply.Token.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            if (input is not null)
            {
                var offered = Tools();
                tools = new ToolCallLog(offered);

                // The caller's token only: an interruption stops the reply, not the reading of what the user said.
                extraction = StartExtraction(words, cancellationToken);
                modelStarted = runtime.Time.GetTimestamp();
                await using var updates = Respond(input, stream, offered, tools.Observe, reply.Token).GetAsyncEnumerator(reply.Token);
                while (true)
                {
                    string chunk;
                    try
                    {
                        if (!await updates.MoveNextAsync())
                        {
                            completed = true;
                            break;
                        }

                        chunk = updates.Current.Text;
                        tools.Observe(updates.Current);
                    }
                    catch (OperationCanceledException) when (reply.Token.IsCancellationRequested)
                    {
                        break;
                    }
                    catch (Exception ex)
                    {
                        failure = ex;
                        break;
                    }

                    if (chunk.Length == 0)
                    {
                        continue;
                    }

                    if (firstChunkMs is null && stream)
                    {
                        firstChunkMs = runtime.Time.GetElapsedTime(started).TotalMilliseconds;
                        runtime.Telemetry.Record(VoxonTelemetry.TimeToFirstToken, firstChunkMs.Value);
                    }

                    generated.Append(chunk);
                    reply.Deliver(chunk);
                    yield return chunk;
                }

                if (completed && generated.ToString().Trim().Length == 0)
                {
                    // The tool loop stops at its limit with the model's last calls unanswered: a model that would not stop
                    // calling functions, which "an empty answer" hid.
                    failure = new EngineException(
                        tools.Unanswered
                            ? $"The model kept calling functions for {runtime.Engine.MaxToolRounds} rounds without answering; the turn was stopped there."
                            : "The model returned an empty answer.",
                        null);
                }
            }
        }
        finally
        {
            var (delivered, interruption) = reply.Close();
            try
            {
                if (failure is null)
                {
                    // An async iterator does not keep its ambient activity across yields; the record belongs to the turn's span.
                    Activity.Current = activity ?? Activity.Current;
                    var modelMs = modelStarted == 0 ? (double?)null : runtime.Time.GetElapsedTime(modelStarted).TotalMilliseconds;
                    var calls = tools?.Calls ?? [];
                    var answer = Reply((completed ? generated.ToString() : delivered).Trim(), completed, interruption, calls.Count > 0, modelMs, firstChunkMs) is { } r
                        ? r with { ToolCalls = calls }
                        : null;
                    // Cancelled before the context was woven: the words are still recorded, and read by the offline rules.
                    var (_, assistant) = await RecordAsync(
                        conversation,
                        input ?? new TurnInput(words, [], WovenContext.Empty, [], audio),
                        answer,
                        extraction,
                        CancellationToken.None);
                    ObserveTurn(assistant, started);

                    // The user cut in while the reply was being recorded (its audio plays on after the text ended).
                    if (reply.Recorded() is { } late && assistant is not null)
                    {
                        Amend(conversation, late, assistant);
                    }
                }
                else if (failure is not (SessionStateException or ArgumentException))
                {
                    Fail(activity, failure);
                }
            }
            finally
            {
                conversation.ActiveReply = null;
                conversation.TurnGate.Release();
            }
        }

        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>The reply to record: whole when completed and not interrupted; as heard when interrupted; what reached
    /// the caller, marked interrupted, when cancelled or abandoned; none when nothing reached the caller and no function
    /// was called (a call may have done something: the transcript keeps it).</summary>
    private static TurnReply? Reply(string text, bool completed, Interruption? interruption, bool calledFunctions, double? modelMs, double? firstChunkMs)
    {
        if (completed && interruption is null)
        {
            return new TurnReply { Generated = text, ResponseTimeMs = modelMs, TimeToFirstTokenMs = firstChunkMs };
        }

        if (text.Length == 0 && interruption is null && !calledFunctions)
        {
            return null;
        }

        return new TurnReply
        {
            Generated = text,
            Heard = (interruption ?? Interruption.Unknown).Heard(text),
            ResponseTimeMs = modelMs,
            TimeToFirstTokenMs = firstChunkMs,
            Interrupted = true,
        };
    }

    /// <summary>The tools offered to the model: with functions enabled, the client's, the session's and the memory tools; none otherwise.</summary>
    public IList<AITool> Tools() => host.Config.EnableFunctions ? [.. runtime.Tools, .. host.SessionTools()] : [];

    /// <summary>The model's reply as updates: streamed as it is produced, or whole (its updates at once), with
    /// <paramref name="tools"/> offered (<see cref="Tools"/>) and their calls and results told to <paramref name="observe"/> as they happen.</summary>
    private async IAsyncEnumerable<ChatResponseUpdate> Respond(TurnInput input, bool stream, IList<AITool> tools, Action<AIContent> observe, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!stream)
        {
            var response = await runtime.Engine.RespondAsync(host.Config, input.Context.Text, input.History, input.Words, tools, observe, cancellationToken);
            foreach (var update in response.ToChatResponseUpdates())
            {
                yield return update;
            }

            yield break;
        }

        await foreach (var update in runtime.Engine.StreamAsync(host.Config, input.Context.Text, input.History, input.Words, tools, observe, cancellationToken))
        {
            yield return update;
        }
    }

    /// <summary>The facts extracted from the user's words; the offline rules when no model extracts or its extraction was cancelled,
    /// since the words were said whether or not the reply was wanted.</summary>
    private static async Task<IReadOnlyList<ExtractedFact>> FactsAsync(Task<IReadOnlyList<ExtractedFact>>? extraction, string words)
    {
        if (extraction is null)
        {
            return MemoryExtractor.Extract(words);
        }

        try
        {
            return await extraction;
        }
        catch (OperationCanceledException)
        {
            return MemoryExtractor.Extract(words);
        }
    }

    private static ConversationTurn AssistantTurn(TurnReply reply, DateTimeOffset now) => new()
    {
        Role = TurnRole.Assistant,
        Content = reply.Heard ?? reply.Generated,
        GeneratedContent = reply.Heard is { } heard && heard != reply.Generated ? reply.Generated : null,
        Timestamp = now,
        ResponseTimeMs = reply.ResponseTimeMs,
        TimeToFirstTokenMs = reply.TimeToFirstTokenMs,
        Interrupted = reply.Interrupted,
        ToolCalls = reply.ToolCalls is { Count: > 0 } calls ? calls : null,
    };

    private Activity? StartActivity(ConversationState state)
    {
        var activity = runtime.Telemetry.StartTurn();
        activity?.SetTag("voxon.session_id", host.SessionId);
        activity?.SetTag("voxon.conversation_id", state.Id);
        return activity;
    }

    /// <summary>Turn metrics: count, model time, and Voxon's own time around the model.</summary>
    private void ObserveTurn(ConversationTurn? assistant, long started)
    {
        var responseMs = assistant?.ResponseTimeMs ?? 0;
        runtime.Telemetry.Add(VoxonTelemetry.Turns);
        runtime.Telemetry.Record(VoxonTelemetry.ResponseTime, responseMs);
        runtime.Telemetry.Record(VoxonTelemetry.TurnOverhead, Math.Max(0, runtime.Time.GetElapsedTime(started).TotalMilliseconds - responseMs));
    }

    private void Fail(Activity? activity, Exception ex)
    {
        runtime.Telemetry.Add(VoxonTelemetry.Errors);
        activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
        host.Raise(SessionEventNames.Error, ex.Message);
    }
}
