using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Voxon.Conversations;
using Voxon.Engine.Realtime;

namespace Voxon.Server.Api;

/// <summary>
/// Pumps one voice call between a client WebSocket and a <see cref="VoiceConversation"/>, and nothing more: the library
/// records the turns. Binary frames are PCM16 (24 kHz mono, little-endian) both ways; text frames are JSON events. From
/// the client: <c>{"type":"playback","item_id"?,"played_ms":N}</c> and <c>{"type":"commit"}</c>. To the client:
/// <c>{"type":"started","conversation_id"}</c> first, <c>{"type":"audio","item_id"}</c> before each reply's audio, <c>{"type":"transcript","role","text","interrupted"?}</c>
/// for each recorded turn, <c>{"type":"interrupted","item_id"}</c> (stop playing that item),
/// <c>{"type":"reconnected","attempt"}</c> (the realtime connection dropped and a new one goes on with the conversation)
/// and <c>{"type":"error","message"}</c>.
/// </summary>
internal sealed class VoiceRelay(WebSocket socket, VoiceConversation voice, JsonSerializerOptions json, ILogger<VoiceRelay> logger)
{
    /// <summary>Largest client message: ten seconds of audio, far more than a capture buffer.</summary>
    internal const int MaxMessageBytes = RealtimeAudio.SampleRate * 2 * 10;

    /// <summary>How long a client has to answer the server's close before the connection is dropped.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan TranscriptPoll = TimeSpan.FromMilliseconds(100);

    private readonly SemaphoreSlim _sending = new(1, 1);
    private string? _lastItem;
    private int _turnsSent;

    /// <summary>Relays until the client closes or the conversation ends; a dropped realtime connection reaches the
    /// client as an error event, after the turns recorded until then.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void Interrupted(object? sender, string item) => _ = SendEventAsync(new VoiceEvent("interrupted", ItemId: item), CancellationToken.None);
        void Reconnected(object? sender, int attempt) => _ = SendEventAsync(new VoiceEvent("reconnected", Attempt: attempt), CancellationToken.None);
        voice.PlaybackInterrupted += Interrupted;
        voice.Reconnected += Reconnected;
        await SendEventAsync(new VoiceEvent("started", ConversationId: voice.ConversationId), stop.Token);

        // Cancelling a receive aborts the socket, so the receive loop ends only by the client's close (or a lost
        // connection): when the conversation ends first, the error and the close still reach the client.
        var inbound = ReceiveAsync(cancellationToken);
        var outbound = SendAudioAsync(stop.Token);
        var transcripts = SendTranscriptsAsync(stop.Token);
        try
        {
            await Task.WhenAny(inbound, voice.Completion);
        }
        finally
        {
            voice.PlaybackInterrupted -= Interrupted;
            voice.Reconnected -= Reconnected;
            await stop.CancelAsync();
            await Quietly(outbound);
            await Quietly(transcripts);
        }

        string? error = null;
        var reason = "Realtime connection lost";
        try
        {
            await voice.DisposeAsync();     // records what is pending before the last transcripts go out
            await voice.Completion;
        }
        catch (RealtimeConnectionException ex)
        {
            logger.LogWarning("Voice call of session {SessionId} lost its realtime connection: {Message}", voice.Conversation.Session.SessionId, ex.Message);
            error = ex.Message;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The client still learns that the call is over and why, in words that give nothing of the server away.
            logger.LogError(ex, "Voice call of session {SessionId} failed.", voice.Conversation.Session.SessionId);
            error = "The voice conversation failed on the server; every turn recorded until then is stored.";
            reason = "Voice conversation failed";
        }

        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await FlushTranscriptsAsync(CancellationToken.None);
            if (error is not null)
            {
                await SendEventAsync(new VoiceEvent("error", Message: error), CancellationToken.None);
            }

            await CloseAsync(error is null ? WebSocketCloseStatus.NormalClosure : WebSocketCloseStatus.InternalServerError, error is null ? "Conversation ended" : reason);
        }

        await Quietly(inbound.WaitAsync(CloseTimeout, CancellationToken.None));
    }

    private async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxMessageBytes);
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == MaxMessageBytes)
                    {
                        await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"Messages are limited to {MaxMessageBytes} bytes.");
                        return;
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(length, MaxMessageBytes - length), cancellationToken);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    await voice.SendAudioAsync(buffer.AsMemory(0, length), cancellationToken);
                }
                else
                {
                    await ControlAsync(buffer.AsMemory(0, length), cancellationToken);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A client control event; a malformed one is answered with an error event and the call goes on.</summary>
    private async Task ControlAsync(ReadOnlyMemory<byte> text, CancellationToken cancellationToken)
    {
        string? problem;
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            var type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case "playback" when root.TryGetProperty("played_ms", out var played) && played.TryGetDouble(out var ms) && ms >= 0:
                    var item = root.TryGetProperty("item_id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : _lastItem;
                    if (item is not null)
                    {
                        voice.ReportPlayback(item, TimeSpan.FromMilliseconds(ms));
                    }

                    return;
                case "playback":
                    problem = "A playback event needs \"played_ms\", a number of milliseconds of at least 0.";
                    break;
                case "commit":
                    await voice.CommitAudioAsync(cancellationToken);
                    return;
                default:
                    problem = $"Unknown event type '{type}': send \"playback\" or \"commit\".";
                    break;
            }
        }
        catch (JsonException ex)
        {
            problem = "A text frame must be a JSON event: " + ex.Message;
        }

        await SendEventAsync(new VoiceEvent("error", Message: problem), cancellationToken);
    }

    private async Task SendAudioAsync(CancellationToken cancellationToken)
    {
        await foreach (var chunk in voice.ReadAudioAsync(cancellationToken))
        {
            if (chunk.ItemId != _lastItem)
            {
                _lastItem = chunk.ItemId;
                await SendEventAsync(new VoiceEvent("audio", ItemId: chunk.ItemId), cancellationToken);
            }

            await SendAsync(chunk.Pcm16, WebSocketMessageType.Binary, cancellationToken);
        }
    }

    /// <summary>The library records turns on its own schedule and raises no event for them: new ones are sent as they appear.</summary>
    private async Task SendTranscriptsAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TranscriptPoll);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            await FlushTranscriptsAsync(cancellationToken);
        }
    }

    private async Task FlushTranscriptsAsync(CancellationToken cancellationToken)
    {
        var transcript = voice.Transcript;
        for (; _turnsSent < transcript.Count; _turnsSent++)
        {
            var turn = transcript[_turnsSent];
            await SendEventAsync(new VoiceEvent("transcript", Role: turn.Role, Text: turn.Content, Interrupted: turn.Interrupted ? true : null), cancellationToken);
        }
    }

    private Task SendEventAsync(VoiceEvent e, CancellationToken cancellationToken) =>
        SendAsync(JsonSerializer.SerializeToUtf8Bytes(e, json), WebSocketMessageType.Text, cancellationToken);

    private async Task SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                // Cancelling a send would abort the socket: the token only gives up waiting for the turn to send.
                await socket.SendAsync(data, type, endOfMessage: true, CancellationToken.None);
            }
        }
        catch (WebSocketException)
        {
            // The client went away; the receive loop ends the call.
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string description)
    {
        await _sending.WaitAsync();
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(status, description, CancellationToken.None);
            }
        }
        catch (WebSocketException)
        {
            // Already gone.
        }
        finally
        {
            _sending.Release();
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or RealtimeConnectionException or TimeoutException)
        {
            // The call is over; how it ended is read from the conversation.
        }
    }
}

/// <summary>A JSON event of the voice WebSocket, sent to the client (nulls left out).</summary>
internal sealed record VoiceEvent(
    string Type, string? ConversationId = null, string? ItemId = null, TurnRole? Role = null, string? Text = null, bool? Interrupted = null, int? Attempt = null, string? Message = null);
