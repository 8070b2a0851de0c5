using System.Buffers;
using System.ClientModel.Primitives;
using System.Net.WebSockets;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OpenAI.Realtime;
using Voxon.Diagnostics;

namespace Voxon.Engine.Realtime;

// OPENAI002: the realtime API of the OpenAI SDK is experimental; this engine is built on it.
#pragma warning disable OPENAI002

/// <summary>
/// One live realtime session: sends the caller's audio, hands the caller the model's audio, and turns the server's
/// events into turns for an <see cref="IRealtimeTurnSink"/>. Events are handled one at a time on one loop, so the
/// state below needs no lock. Knows the protocol, not sessions. A dropped connection is opened again (see
/// <see cref="RealtimeConnector"/>) with the context last woven and the dialogue so far, and the conversation goes on.
/// </summary>
internal sealed class RealtimeVoiceEngine : IAsyncDisposable
{
    private readonly RealtimeConnector _connector;
    private readonly RealtimeSetup _setup;
    private readonly IRealtimeTurnSink _sink;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<object> _inbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<VoiceAudioChunk> _audio = Channel.CreateUnbounded<VoiceAudioChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _ending = new();
    private readonly List<Reply> _replies = [];
    private readonly Dictionary<string, Reply> _byItem = new(StringComparer.Ordinal);
    private readonly HashSet<string> _awaitingTranscription = new(StringComparer.Ordinal);

    // User items whose transcription came before their commit (the service may send either first): the commit then
    // awaits nothing, or every later reply would wait for a transcription that had come.
    private readonly HashSet<string> _transcribedFirst = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TimeSpan> _speechStart = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TimeSpan> _speechDuration = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AIFunction> _tools;
    private readonly List<Conversations.ToolCall> _toolCalls = [];
    private readonly Dictionary<string, StringBuilder> _heardSoFar = new(StringComparer.Ordinal);

    // Playback reported for an item the engine has not seen yet (the caller had its id before the engine read the item):
    // applied when the item arrives, instead of dropped, which left the reply waiting for a report that had come.
    private readonly Dictionary<string, TimeSpan> _earlyReports = new(StringComparer.Ordinal);
    private const int MaxEarlyReports = 16;
    private readonly ArrayBufferWriter<byte> _update = new(4096);
    private readonly Utf8JsonWriter _updateWriter;
    private readonly RequestOptions _sendOptions;
    private AheadTurn? _ahead;
    private RealtimeSessionClient _client;
    private string _instructions;
    private Task _pump = Task.CompletedTask;
    private Task _loop = Task.CompletedTask;
    private long? _userStoppedAt;
    private bool _followUpResponse;

    // Functions run off the loop, so that speech over a reply is acted on while one runs; a response done while some
    // still run is followed up when the last has answered.
    private readonly List<Task> _functionRuns = [];
    private int _functionsRunning;
    private bool _followUpWhenAnswered;
    private int _disposed;

    private RealtimeVoiceEngine(RealtimeSessionClient client, RealtimeConnector connector, RealtimeSetup setup, IRealtimeTurnSink sink, TimeProvider time, ILogger logger)
    {
        _client = client;
        _connector = connector;
        _setup = setup;
        _instructions = setup.Instructions;
        _sink = sink;
        _time = time;
        _logger = logger;
        _tools = setup.Tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
        _updateWriter = new Utf8JsonWriter(_update);
        _sendOptions = new RequestOptions { CancellationToken = _stop.Token };
    }

    /// <summary>Raised on the engine's loop when the user starts speaking over a reply: stop playing <c>ItemId</c>'s audio.</summary>
    public event Action<string>? PlaybackInterrupted;

    /// <summary>Raised on the engine's loop when a new session replaced a dropped one: the attempt that opened it (from 1).</summary>
    public event Action<int>? Reconnected;

    /// <summary>Completes when the engine stops; faults with <see cref="RealtimeConnectionException"/> when the connection
    /// dropped and could not be opened again, or the engine failed on an unexpected error (the cause is the inner exception).</summary>
    public Task Completion => _loop;

    /// <summary>Connects, configures the live session and starts handling its events.</summary>
    /// <exception cref="RealtimeConnectionException">The endpoint could not be reached.</exception>
    public static async Task<RealtimeVoiceEngine> StartAsync(
        RealtimeOptions options, RealtimeSetup setup, IRealtimeTurnSink sink, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var connector = new RealtimeConnector(options, time, logger);
        var client = await connector.ConnectAsync(setup.ToSessionOptions(), [], cancellationToken);
        var engine = new RealtimeVoiceEngine(client, connector, setup, sink, time, logger);
        engine._pump = Task.Run(() => engine.PumpAsync(client), CancellationToken.None);
        engine._loop = Task.Run(engine.LoopAsync, CancellationToken.None);
        return engine;
    }

    /// <summary>Sends the user's audio (PCM16, 24 kHz, mono). Audio sent while a dropped connection is being opened
    /// again is lost.</summary>
    /// <exception cref="RealtimeConnectionException">The connection dropped and is not opened again.</exception>
    public Task SendAudioAsync(ReadOnlyMemory<byte> pcm16, CancellationToken cancellationToken) =>
        SendAsync(client => client.SendInputAudioAsync(BinaryData.FromBytes(pcm16), cancellationToken));

    /// <summary>Ends the user's utterance by hand (push to talk): commits the audio sent and, without server VAD, asks for a reply.</summary>
    /// <exception cref="RealtimeConnectionException">The connection dropped.</exception>
    public async Task CommitAudioAsync(CancellationToken cancellationToken)
    {
        _inbox.Writer.TryWrite(new UserStopped(_time.GetTimestamp()));
        await SendAsync(client => client.CommitPendingAudioAsync(cancellationToken));
        if (!_setup.ServerVad)
        {
            await SendAsync(client => client.StartResponseAsync(cancellationToken));
        }
    }

    /// <summary>Tells how much of a reply's audio has been played (more precise than the engine's real-time estimate).</summary>
    public void ReportPlayback(string itemId, TimeSpan played) => _inbox.Writer.TryWrite(new PlaybackReport(itemId, played));

    /// <summary>The model's audio, as it arrives; ends when the engine stops.</summary>
    public IAsyncEnumerable<VoiceAudioChunk> ReadAudioAsync(CancellationToken cancellationToken) => _audio.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Stops: records what is pending, closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _ending.CancelAsync();     // stops reconnecting
        _inbox.Writer.TryWrite(Stop.Instance);
        try
        {
            await _loop;
        }
        catch (RealtimeConnectionException)
        {
            // Already reported through Completion; the turns were recorded.
        }

        // Stopped by the end of the conversation; they catch their own errors. The loop has ended: the list is ours.
        await Task.WhenAll(_functionRuns);

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            if (_client.WebSocket is { State: WebSocketState.Open } socket)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "conversation ended", timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            _logger.LogDebug(ex, "Closing the realtime connection failed.");
        }

        await _stop.CancelAsync();
        await _pump;
        _client.Dispose();
        _updateWriter.Dispose();
        _stop.Dispose();
        _ending.Dispose();
    }

    /// <summary>A send from the caller: on a dropped connection it fails, unless the connection is being opened again.</summary>
    private async Task SendAsync(Func<RealtimeSessionClient, Task> send)
    {
        if (_loop is { IsFaulted: true, Exception.InnerException: { } stopped })
        {
            // The engine stopped on an error; input would go to a session nobody listens to.
            ExceptionDispatchInfo.Throw(stopped);
        }

        try
        {
            await send(Volatile.Read(ref _client));
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            if (_connector.Reconnects && !_loop.IsCompleted && Volatile.Read(ref _disposed) == 0)
            {
                _logger.LogDebug(ex, "Input sent to the realtime endpoint while its connection is re-established is lost.");
                return;
            }

            throw Dropped(ex);
        }
    }

    private RealtimeConnectionException Dropped(Exception? cause)
    {
        var retried = _connector.Reconnects ? " and could not be opened again" : string.Empty;
        return new($"The realtime connection to {_connector.Endpoint} dropped{(cause is null ? string.Empty : ": " + cause.Message)}{retried}. Every turn heard until then is recorded; start a new voice conversation to go on.", cause);
    }

    /// <summary>Moves one connection's events into the inbox; a failure or an unexpected close becomes <see cref="ConnectionLost"/>.</summary>
    private async Task PumpAsync(RealtimeSessionClient client)
    {
        Exception? failure = null;
        try
        {
            await foreach (var update in client.ReceiveUpdatesAsync(_stop.Token))
            {
                _inbox.Writer.TryWrite(update);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            // Whatever ended the read (the network, or an event the SDK could not read, e.g. audio that is not base64)
            // ends this connection: the loop must hear of it, or the conversation would wait forever.
            failure = ex;
        }

        _inbox.Writer.TryWrite(new ConnectionLost(client, failure));
    }

    private async Task LoopAsync()
    {
        try
        {
            await foreach (var message in _inbox.Reader.ReadAllAsync())
            {
                Exception? lost = null;
                try
                {
                    switch (message)
                    {
                        case Stop:
                            await FinishAsync();
                            return;
                        case ConnectionLost dropped when dropped.Client == _client:
                            lost = dropped.Cause ?? new WebSocketException("The server closed the connection.");
                            break;
                        case RealtimeServerUpdate update:
                            await HandleAsync(update);
                            break;
                        case UserStopped stopped:
                            _userStoppedAt = stopped.At;
                            break;
                        case PlaybackReport report when _byItem.TryGetValue(report.ItemId, out var reply):
                            reply.Reported = report.Played;
                            await RecordFinishedAsync(force: false);
                            break;
                        case PlaybackReport early when _earlyReports.ContainsKey(early.ItemId) || _earlyReports.Count < MaxEarlyReports:
                            _earlyReports[early.ItemId] = early.Played;
                            break;
                        case Tick:
                            await RecordFinishedAsync(force: false);
                            break;
                        case FunctionAnswered answered:
                            await AnswerToolAsync(answered);
                            break;
                    }
                }
                catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
                {
                    lost = ex;
                }

                if (lost is not null)
                {
                    // What the drop cut short is recorded as heard so far; the new session starts from there.
                    await FinishAsync();
                    if (Volatile.Read(ref _disposed) == 1)
                    {
                        return;
                    }

                    _logger.LogWarning(lost, "The realtime connection to {Endpoint} dropped.", _connector.Endpoint);
                    if (!await ReconnectAsync())
                    {
                        if (Volatile.Read(ref _disposed) == 1)
                        {
                            return;
                        }

                        _logger.LogError(lost, "The realtime connection to {Endpoint} dropped and could not be opened again.", _connector.Endpoint);
                        throw Dropped(lost);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is not RealtimeConnectionException)
        {
            // A bug, not the network: the caller still gets the engine's documented error, with what was heard recorded.
            _logger.LogError(ex, "The realtime conversation with {Endpoint} failed.", _connector.Endpoint);
            try
            {
                await FinishAsync();
            }
            catch (Exception recording)
            {
                _logger.LogError(recording, "Recording the pending realtime turns failed.");
            }

            throw new RealtimeConnectionException(
                $"The realtime conversation with {_connector.Endpoint} stopped on an unexpected error: {ex.Message}. Every turn heard until then is recorded; start a new voice conversation to go on.", ex);
        }
        finally
        {
            _audio.Writer.TryComplete();
        }
    }

    /// <summary>Opens a new session configured with the context last woven and the dialogue so far, and reads it from
    /// now on. What the old session was doing (speech being transcribed, a reply being made) died with it.</summary>
    private async Task<bool> ReconnectAsync()
    {
        _byItem.Clear();                // every reply was recorded; a new session may reuse item ids
        _awaitingTranscription.Clear();
        _transcribedFirst.Clear();
        _speechStart.Clear();
        _speechDuration.Clear();
        _heardSoFar.Clear();
        _ahead = null;
        _followUpResponse = false;
        _followUpWhenAnswered = false;      // a function still running answers a call the new session never made
        _userStoppedAt = null;
        var reconnected = await _connector.ReconnectAsync(() => (_setup with { Instructions = _instructions }).ToSessionOptions(), _sink.Dialogue, _ending.Token);
        if (reconnected is not { } opened)
        {
            return false;
        }

        var old = Volatile.Read(ref _client);
        Volatile.Write(ref _client, opened.Client);
        old.Dispose();
        _pump = Task.Run(() => PumpAsync(opened.Client), CancellationToken.None);
        _logger.LogInformation("Reconnected to the realtime endpoint {Endpoint} (attempt {Attempt}).", _connector.Endpoint, opened.Attempt);
        Notify(Reconnected, opened.Attempt);
        return true;
    }

    private async Task FinishAsync()
    {
        await RecordFinishedAsync(force: true);
        foreach (var reply in _byItem.Values)
        {
            reply.Timer?.Dispose();
        }
    }

    private async Task HandleAsync(RealtimeServerUpdate update)
    {
        switch (update)
        {
            case RealtimeServerUpdateInputAudioBufferSpeechStarted started:
                _speechStart[started.ItemId ?? string.Empty] = started.AudioStartTime;
                await BargeInAsync();
                break;
            case RealtimeServerUpdateInputAudioBufferSpeechStopped stopped:
                _userStoppedAt = _time.GetTimestamp();
                if (stopped.ItemId is { } id && _speechStart.Remove(id, out var start) && stopped.AudioEndTime > start)
                {
                    _speechDuration[id] = stopped.AudioEndTime - start;
                }

                break;
            case RealtimeServerUpdateInputAudioBufferCommitted committed when committed.ItemId is not null:
                if (!_transcribedFirst.Remove(committed.ItemId))
                {
                    _awaitingTranscription.Add(committed.ItemId);
                }

                break;
            case RealtimeServerUpdateConversationItemInputAudioTranscriptionDelta interim when interim.ItemId is not null && !string.IsNullOrEmpty(interim.Delta):
                PrepareAhead(interim.ItemId, interim.Delta);
                break;
            case RealtimeServerUpdateConversationItemInputAudioTranscriptionCompleted heard:
                await UserSpokeAsync(heard.ItemId, heard.Transcript);
                break;
            case RealtimeServerUpdateConversationItemInputAudioTranscriptionFailed failed:
                _logger.LogWarning("The realtime endpoint could not transcribe item {ItemId}: {Error}", failed.ItemId, failed.Error?.Message);
                TranscriptionEnded(failed.ItemId ?? string.Empty);
                _heardSoFar.Remove(failed.ItemId ?? string.Empty);
                await RecordFinishedAsync(force: false);
                break;
            case RealtimeServerUpdateResponseOutputItemAdded { Item: RealtimeMessageItem message } when message.Id is not null:
                ReplyFor(message.Id);
                break;
            case RealtimeServerUpdateResponseOutputAudioDelta delta when delta.ItemId is not null && delta.Delta is not null:
                var reply = ReplyFor(delta.ItemId);
                var pcm = delta.Delta.ToMemory();
                if (reply.FirstAudioAt is null)
                {
                    reply.FirstAudioAt = _time.GetTimestamp();
                    reply.ResponseTimeMs = _userStoppedAt is { } since ? _time.GetElapsedTime(since).TotalMilliseconds : null;
                }

                reply.AudioBytes += pcm.Length;
                _audio.Writer.TryWrite(new VoiceAudioChunk(delta.ItemId, pcm));
                break;
            case RealtimeServerUpdateResponseOutputAudioTranscriptDelta text when text.ItemId is not null:
                ReplyFor(text.ItemId).Transcript.Append(text.Delta);
                break;
            case RealtimeServerUpdateResponseOutputAudioTranscriptDone text when text.ItemId is not null && text.Transcript is not null:
                ReplyFor(text.ItemId).Transcript.Clear().Append(text.Transcript);
                break;
            case RealtimeServerUpdateResponseOutputTextDone text when text.ItemId is not null && text.Text is not null:
                ReplyFor(text.ItemId).Transcript.Clear().Append(text.Text);
                break;
            case RealtimeServerUpdateResponseOutputItemDone { Item: RealtimeFunctionCallItem call }:
                StartTool(call);
                break;
            case RealtimeServerUpdateResponseOutputItemDone { Item: RealtimeMessageItem message } when message.Id is not null:
                ReplyFor(message.Id).Done = true;
                await RecordFinishedAsync(force: false);
                break;
            case RealtimeServerUpdateResponseDone done:
                foreach (var item in done.Response?.OutputItems.OfType<RealtimeMessageItem>() ?? [])
                {
                    if (item.Id is not null && _byItem.TryGetValue(item.Id, out var finished))
                    {
                        finished.Done = true;
                    }
                }

                _userStoppedAt = null;
                if (_functionsRunning > 0)
                {
                    _followUpWhenAnswered = true;
                }
                else if (_followUpResponse)
                {
                    _followUpResponse = false;
                    await _client.StartResponseAsync(_stop.Token);
                }

                await RecordFinishedAsync(force: false);
                break;
            case RealtimeServerUpdateError error:
                _logger.LogWarning("The realtime endpoint reported an error: {Code} {Message}", error.Error?.Code, error.Error?.Message);
                break;
        }
    }

    private Reply ReplyFor(string itemId)
    {
        if (!_byItem.TryGetValue(itemId, out var reply))
        {
            reply = new Reply(itemId, [.. _awaitingTranscription]);
            if (_earlyReports.Remove(itemId, out var played))
            {
                reply.Reported = played;
            }

            _byItem.Add(itemId, reply);
            _replies.Add(reply);
        }

        return reply;
    }

    /// <summary>The transcription of the user's words so far: the context for them is woven now, while the user may still
    /// be speaking, so that when the transcription completes with the same words its <c>session.update</c> goes out at
    /// once. Only the latest words are woven: a delta with more queued behind it is only added up.</summary>
    private void PrepareAhead(string itemId, string delta)
    {
        if (!_heardSoFar.TryGetValue(itemId, out var heard))
        {
            _heardSoFar[itemId] = heard = new StringBuilder();
        }

        heard.Append(delta);
        var words = heard.ToString().Trim();
        if (words.Length > 0 && !_inbox.Reader.TryPeek(out _))
        {
            var audio = SpeechDuration(itemId);
            _ahead = new AheadTurn(itemId, words, audio, _sink.PrepareUserTurn(words, audio));
        }
    }

    private void TranscriptionEnded(string itemId)
    {
        if (!_awaitingTranscription.Remove(itemId) && _transcribedFirst.Count < MaxEarlyReports)
        {
            _transcribedFirst.Add(itemId);
        }
    }

    private TimeSpan? SpeechDuration(string itemId) => _speechDuration.TryGetValue(itemId, out var duration) ? duration : null;

    /// <summary>The user's words: the context woven from them goes into the live session at once (the model may already
    /// be answering); then the context woven with their embedding follows when it differs, and the turn is recorded.</summary>
    private async Task UserSpokeAsync(string? itemId, string? transcript)
    {
        var id = itemId ?? string.Empty;
        TranscriptionEnded(id);
        _heardSoFar.Remove(id);
        var ahead = _ahead;
        _ahead = null;
        if (!string.IsNullOrWhiteSpace(transcript))
        {
            var words = transcript.Trim();
            var audio = SpeechDuration(id);
            _speechDuration.Remove(id);
            var started = _time.GetTimestamp();

            // Woven ahead from the same words and speech timing; memory the application changed since then is in the
            // second update, woven with the embedding from the session as it is now.
            var turn = ahead is { } a && a.ItemId == id && a.Words == words && a.Audio == audio ? a.Turn : _sink.PrepareUserTurn(words, audio);
            try
            {
                await UpdateInstructionsAsync(turn.Instructions);
                VoxonTelemetry.RealtimeContextUpdate.Record(_time.GetElapsedTime(started).TotalMilliseconds);
                var refined = await turn.WeaveAsync(CancellationToken.None);
                if (refined != turn.Instructions)
                {
                    await UpdateInstructionsAsync(refined);
                    VoxonTelemetry.RealtimeContextRefined.Record(_time.GetElapsedTime(started).TotalMilliseconds);
                }
            }
            finally
            {
                // The words were said even when the connection dropped while the context was being sent.
                await turn.RecordAsync(CancellationToken.None);
            }
        }

        await RecordFinishedAsync(force: false);
    }

    /// <summary>Gives the live session new instructions; they are also what a session opened after a drop starts with.</summary>
    /// <remarks>The event is written straight into a buffer kept for it (only the loop sends it, one at a time) rather
    /// than through the SDK's options model, whose serializer was the slowest part of the send and allocated on each.</remarks>
    private Task UpdateInstructionsAsync(string instructions)
    {
        _instructions = instructions;
        _update.ResetWrittenCount();
        _updateWriter.Reset(_update);
        _updateWriter.WriteStartObject();
        _updateWriter.WriteString("type"u8, "session.update"u8);
        _updateWriter.WriteStartObject("session"u8);
        _updateWriter.WriteString("type"u8, "realtime"u8);
        _updateWriter.WriteString("instructions"u8, instructions);
        _updateWriter.WriteEndObject();
        _updateWriter.WriteEndObject();
        _updateWriter.Flush();
        return _client.SendCommandAsync(BinaryData.FromBytes(_update.WrittenMemory), _sendOptions);
    }

    /// <summary>Speech started: the reply still playing is cut to what was played, on the server and in the record.</summary>
    private async Task BargeInAsync()
    {
        var playing = _replies.LastOrDefault(r => r.CutAt is null && r.AudioBytes > 0 && (!r.Done || Played(r) < r.Total));
        if (playing is null)
        {
            return;
        }

        var played = Played(playing);
        playing.CutAt = played;
        Notify(PlaybackInterrupted, playing.ItemId);
        await _client.TruncateItemAsync(playing.ItemId, 0, played, _stop.Token);
        await RecordFinishedAsync(force: false);
    }

    /// <summary>Records replies in order once they are final: cut short, or done and played out (or the engine is stopping),
    /// and never before the user turns they answer.</summary>
    private async Task RecordFinishedAsync(bool force)
    {
        while (_replies.Count > 0)
        {
            var reply = _replies[0];
            if (!force && reply.WaitsFor.Overlaps(_awaitingTranscription))
            {
                return;
            }

            if (reply.CutAt is null && !force)
            {
                if (!reply.Done)
                {
                    return;
                }

                var remaining = reply.Total - Played(reply);
                if (remaining > TimeSpan.Zero)
                {
                    reply.Timer ??= _time.CreateTimer(_ => _inbox.Writer.TryWrite(Tick.Instance), null, remaining + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
                    return;
                }
            }

            _replies.RemoveAt(0);
            reply.Timer?.Dispose();
            var text = reply.Transcript.ToString().Trim();
            if (text.Length == 0)
            {
                continue;
            }

            // A reply still being generated when the engine stops was heard as far as its audio arrived.
            var cut = reply.CutAt ?? (reply.Done ? null : reply.Total);
            try
            {
                await _sink.RecordReplyAsync(new RealtimeReply(text, cut, reply.Total, reply.ResponseTimeMs, [.. _toolCalls]), CancellationToken.None);
                _toolCalls.Clear();
            }
            catch (Exception ex) when (ex is VoxonException or InvalidOperationException)
            {
                _logger.LogError(ex, "Recording the realtime reply {ItemId} failed.", reply.ItemId);
            }
        }
    }

    /// <summary>Raises an event of the caller's: a handler that throws is logged, and the conversation goes on.</summary>
    private void Notify<T>(Action<T>? handlers, T argument)
    {
        try
        {
            handlers?.Invoke(argument);
        }
        catch (Exception ex)
        {
            // Counted with the session's event handlers that threw: one metric for a subscriber's bug.
            VoxonTelemetry.HandlerErrors.Add(1);
            _logger.LogWarning(ex, "A handler of a realtime conversation event threw; the conversation goes on.");
        }
    }

    private TimeSpan Played(Reply reply)
    {
        if (reply.Reported is { } reported)
        {
            return reported < reply.Total ? reported : reply.Total;
        }

        if (reply.FirstAudioAt is not { } first)
        {
            return TimeSpan.Zero;
        }

        // Without reports from the player, audio is assumed to play in real time from its first chunk.
        var elapsed = _time.GetElapsedTime(first);
        return elapsed < reply.Total ? elapsed : reply.Total;
    }

    /// <summary>Runs a function the model called, off the loop; its answer comes back through the inbox.</summary>
    private void StartTool(RealtimeFunctionCallItem call)
    {
        if (string.IsNullOrEmpty(call.CallId))
        {
            // Its answer could not name the call: the function is not run, and the model is not asked to go on from it.
            _logger.LogWarning("The realtime endpoint called the function {Function} (item {ItemId}) without a call_id; the call is not run.", call.FunctionName, call.Id);
            _toolCalls.Add(new Conversations.ToolCall(call.FunctionName ?? string.Empty, call.FunctionArguments?.ToString(), "Error: the call has no call_id, so its answer cannot reach the model.", Failed: true));
            return;
        }

        var client = _client;
        _functionsRunning++;
        _functionRuns.RemoveAll(t => t.IsCompleted);
        _functionRuns.Add(Task.Run(async () =>
        {
            if (await CallToolAsync(call) is { } answer)
            {
                _inbox.Writer.TryWrite(new FunctionAnswered(client, call, answer.Output, answer.Failed));
            }
        }, CancellationToken.None));
    }

    /// <summary>Runs a function; null when the conversation ended first (nobody waits for its answer any more).</summary>
    private async Task<(string Output, bool Failed)?> CallToolAsync(RealtimeFunctionCallItem call)
    {
        if (call.FunctionName is null || !_tools.TryGetValue(call.FunctionName, out var tool))
        {
            return ($"Error: there is no function named '{call.FunctionName}'.", true);
        }

        try
        {
            var arguments = new AIFunctionArguments();
            using var json = JsonDocument.Parse(call.FunctionArguments?.ToString() is { Length: > 0 } raw ? raw : "{}");
            foreach (var property in json.RootElement.EnumerateObject())
            {
                arguments[property.Name] = property.Value.Clone();
            }

            // Stopped when the conversation ends: ending the conversation waits for it.
            var result = await tool.InvokeAsync(arguments, _ending.Token);
            var output = result switch
            {
                null => "null",
                string s => s,
                JsonElement e => e.GetRawText(),
                _ => JsonSerializer.Serialize(result, AIJsonUtilities.DefaultOptions),
            };
            return (output, false);
        }
        catch (OperationCanceledException) when (_ending.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception ex)
        {
            // A failing tool answers the model with the error instead of ending the conversation; so does one that
            // gave up on its own timeout (an HTTP call's surfaces as a cancellation).
            _logger.LogWarning(ex, "The function {Function} failed.", call.FunctionName);
            return ($"Error: {ex.Message}", true);
        }
    }

    /// <summary>On the loop: records a function's call and answers the model; the last answer of a response already
    /// done asks for the reply that follows from them.</summary>
    private async Task AnswerToolAsync(FunctionAnswered answered)
    {
        _functionsRunning--;
        var call = answered.Call;
        _toolCalls.Add(new Conversations.ToolCall(call.FunctionName ?? string.Empty, call.FunctionArguments?.ToString(), answered.Output, answered.Failed));
        // A call of a session that dropped since is not answered: the new session does not know it.
        if (answered.Client == _client)
        {
            await _client.AddItemAsync(RealtimeItem.CreateFunctionCallOutputItem(call.CallId, answered.Output), _stop.Token);
            _followUpResponse = true;
        }

        if (_functionsRunning == 0 && _followUpWhenAnswered)
        {
            _followUpWhenAnswered = false;
            if (_followUpResponse)
            {
                _followUpResponse = false;
                await _client.StartResponseAsync(_stop.Token);
            }
        }
    }

    private sealed class Reply(string itemId, HashSet<string> waitsFor)
    {
        public string ItemId { get; } = itemId;

        /// <summary>User items still being transcribed when the reply began: it is recorded after them.</summary>
        public HashSet<string> WaitsFor { get; } = waitsFor;

        public StringBuilder Transcript { get; } = new();

        public long AudioBytes { get; set; }

        public TimeSpan Total => RealtimeAudio.Duration(AudioBytes);

        public long? FirstAudioAt { get; set; }

        public double? ResponseTimeMs { get; set; }

        public TimeSpan? Reported { get; set; }

        public bool Done { get; set; }

        public TimeSpan? CutAt { get; set; }

        public ITimer? Timer { get; set; }
    }

    /// <summary>A user turn woven from the transcription so far (<see cref="PrepareAhead"/>).</summary>
    private sealed record AheadTurn(string ItemId, string Words, TimeSpan? Audio, PreparedUserTurn Turn);

    private sealed record PlaybackReport(string ItemId, TimeSpan Played);

    private sealed record UserStopped(long At);

    private sealed record FunctionAnswered(RealtimeSessionClient Client, RealtimeFunctionCallItem Call, string Output, bool Failed);

    private sealed record ConnectionLost(RealtimeSessionClient Client, Exception? Cause);

    private sealed class Stop
    {
        public static readonly Stop Instance = new();
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
