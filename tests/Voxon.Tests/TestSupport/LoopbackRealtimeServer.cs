using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Voxon.Tests.TestSupport;

/// <summary>
/// A minimal OpenAI Realtime server on 127.0.0.1 (only) and a free port, speaking the realtime JSON events over a
/// WebSocket at <c>/v1/realtime</c>. It records every client event (<c>session.update</c>, <c>input_audio_buffer.*</c>,
/// <c>conversation.item.*</c>, <c>response.*</c>) per connection, answers <c>session.update</c> with
/// <c>session.updated</c> and <c>conversation.item.truncate</c> with <c>conversation.item.truncated</c>, and lets the test
/// play the server's side: the user speaking (<see cref="RealtimeConnection.UserSaysAsync"/>), the model answering
/// (<see cref="RealtimeConnection.ReplyAsync"/>), a dropped socket (<see cref="RealtimeConnection.Drop"/>), a service
/// that is down (<see cref="RefuseConnections"/>).
/// With <see cref="AutoReply"/> set, audio committed by the client is "transcribed" as <see cref="AutoTranscript"/> and
/// answered by itself. Used by the realtime engine's tests, the CLI tests and the realtime benchmark.
/// </summary>
/// <remarks>It accepts TCP itself (not through <see cref="HttpListener"/>) to turn Nagle's algorithm off on each
/// connection: with it on, an event written while the previous one waits for its (delayed) ACK sat ~40 ms in the
/// kernel, which the realtime benchmark measured as engine latency. A realtime service does not batch its events either.</remarks>
public sealed class LoopbackRealtimeServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Task _loop;
    private readonly Channel<RealtimeConnection> _accepted = Channel.CreateUnbounded<RealtimeConnection>();
    private readonly List<RealtimeConnection> _connections = [];
    private int _refused;

    private LoopbackRealtimeServer(TcpListener listener)
    {
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    /// <summary>The base URL a client is configured with (the SDK appends /realtime).</summary>
    public Uri Endpoint => new($"http://127.0.0.1:{Port}/v1");

    /// <summary>What audio committed by the client is transcribed as, when <see cref="AutoReply"/> is set.</summary>
    public string AutoTranscript { get; set; } = "Hello";

    /// <summary>When set, committed audio is answered by itself: transcription <see cref="AutoTranscript"/>, then this reply.</summary>
    public string? AutoReply { get; set; }

    /// <summary>When set, upgrade requests are answered 503 (a service that is down), and counted in <see cref="RefusedConnections"/>.</summary>
    public bool RefuseConnections { get; set; }

    /// <summary>Upgrade requests answered 503 while <see cref="RefuseConnections"/> was set.</summary>
    public int RefusedConnections => Volatile.Read(ref _refused);

    /// <summary>Raised (on the accept loop) for each upgrade request refused, before it is answered.</summary>
    public event Action? ConnectionRefused;

    /// <summary>Duration of the audio of each automatic reply.</summary>
    public TimeSpan AutoReplyAudio { get; set; } = TimeSpan.FromMilliseconds(600);

    public IReadOnlyList<RealtimeConnection> Connections
    {
        get
        {
            lock (_connections)
            {
                return [.. _connections];
            }
        }
    }

    public static LoopbackRealtimeServer Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new LoopbackRealtimeServer(listener);
    }

    /// <summary>The next connection a client opens.</summary>
    public async Task<RealtimeConnection> AcceptAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        return await _accepted.Reader.ReadAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        foreach (var connection in Connections)
        {
            connection.Drop();
        }

        try
        {
            await _loop;
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            client.NoDelay = true;
            RealtimeConnection connection;
            try
            {
                connection = await UpgradeAsync(client);
            }
            catch (Exception ex) when (ex is IOException or SocketException or InvalidDataException)
            {
                client.Dispose();
                continue;
            }

            lock (_connections)
            {
                _connections.Add(connection);
            }

            await connection.SendAsync(new { type = "session.created", @event_id = "evt_created", session = new { type = "realtime", id = "sess_loopback" } });
            _accepted.Writer.TryWrite(connection);
        }
    }

    /// <summary>The WebSocket handshake (RFC 6455 section 4.2) for <c>GET /v1/realtime</c>; anything else gets 404.</summary>
    private async Task<RealtimeConnection> UpgradeAsync(TcpClient client)
    {
        var stream = client.GetStream();
        var head = new StringBuilder();
        var buffer = new byte[4096];
        // The client sends nothing after its request until it has the 101, so reading past the headers cannot happen.
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0 || head.Length > 64 * 1024)
            {
                throw new InvalidDataException("The client closed the connection before the end of its request.");
            }

            head.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var lines = head.ToString().Split("\r\n");
        var target = lines[0].Split(' ') is [_, var t, ..] ? t : string.Empty;
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .GroupBy(p => p[0].Trim(), StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => string.Join(", ", g.Select(p => p[1].Trim())), StringComparer.OrdinalIgnoreCase);
        var path = target.Split('?', 2)[0];
        if (path != "/v1/realtime" || !headers.TryGetValue("Sec-WebSocket-Key", out var key))
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
            throw new InvalidDataException($"No realtime endpoint at {target}.");
        }

        if (RefuseConnections)
        {
            Interlocked.Increment(ref _refused);
            ConnectionRefused?.Invoke();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
            throw new InvalidDataException("Connections are refused.");
        }

        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        var subProtocol = headers.TryGetValue("Sec-WebSocket-Protocol", out var offered) && offered.Split(',').Any(p => p.Trim() == "realtime") ? "realtime" : null;
        var response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + $"Sec-WebSocket-Accept: {accept}\r\n" + (subProtocol is null ? string.Empty : $"Sec-WebSocket-Protocol: {subProtocol}\r\n") + "\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(response));
        var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, SubProtocol = subProtocol, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        var query = target.Contains('?', StringComparison.Ordinal) ? target[target.IndexOf('?', StringComparison.Ordinal)..] : string.Empty;
        return new RealtimeConnection(this, client, socket, query, headers);
    }

    /// <summary>One client connection: its requests and events, and the server's side of the conversation.</summary>
    public sealed class RealtimeConnection
    {
        private readonly LoopbackRealtimeServer _server;
        private readonly TcpClient _client;
        private readonly WebSocket _socket;
        private readonly SemaphoreSlim _sendGate = new(1, 1);
        private readonly List<JsonObject> _received = [];
        private readonly Task _receive;
        private int _items;
        private long _audioBytes;

        internal RealtimeConnection(LoopbackRealtimeServer server, TcpClient client, WebSocket socket, string query, IReadOnlyDictionary<string, string> headers)
        {
            _server = server;
            _client = client;
            _socket = socket;
            Query = query;
            Headers = headers;
            _receive = Task.Run(ReceiveAsync);
        }

        /// <summary>The query string of the upgrade request (?model=...).</summary>
        public string Query { get; }

        public IReadOnlyDictionary<string, string> Headers { get; }

        /// <summary>Bytes of input audio appended so far.</summary>
        public long AudioBytes => Interlocked.Read(ref _audioBytes);

        /// <summary>Raised (on the receive loop) for each client event as soon as it is recorded, before the server answers it.</summary>
        public event Action<JsonObject>? Received;

        /// <summary>Every client event so far, in order.</summary>
        public IReadOnlyList<JsonObject> Events
        {
            get
            {
                lock (_received)
                {
                    return [.. _received];
                }
            }
        }

        /// <summary>The client events of one type.</summary>
        public IReadOnlyList<JsonObject> EventsOf(string type) => [.. Events.Where(e => (string?)e["type"] == type)];

        /// <summary>Waits for the <paramref name="count"/>-th client event of <paramref name="type"/>.</summary>
        public async Task<JsonObject> WaitForAsync(string type, int count = 1, TimeSpan? timeout = null)
        {
            var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
            while (true)
            {
                var found = EventsOf(type);
                if (found.Count >= count)
                {
                    return found[count - 1];
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"No '{type}' #{count} from the client; got: {string.Join(", ", Events.Select(e => (string?)e["type"]))}");
                }

                await Task.Delay(10);
            }
        }

        public Task SendAsync(object serverEvent) => SendRawAsync(JsonSerializer.Serialize(serverEvent));

        public async Task SendRawAsync(string json)
        {
            await _sendGate.WaitAsync();
            try
            {
                await _socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
            finally
            {
                _sendGate.Release();
            }
        }

        /// <summary>The server hears the user: speech started and stopped, audio committed, then the transcription
        /// (or, with <paramref name="transcribedFirst"/>, the transcription before the commit, an order the service may
        /// also send). Returns the user item's id.</summary>
        public async Task<string> UserSaysAsync(string transcript, TimeSpan? speech = null, bool transcribe = true, bool transcribedFirst = false)
        {
            var item = NextId("item_user");
            var duration = (long)(speech ?? TimeSpan.FromSeconds(2)).TotalMilliseconds;
            await SendAsync(new { type = "input_audio_buffer.speech_started", event_id = NextId("evt"), audio_start_ms = 1000, item_id = item });
            await SendAsync(new { type = "input_audio_buffer.speech_stopped", event_id = NextId("evt"), audio_end_ms = 1000 + duration, item_id = item });
            if (transcribedFirst)
            {
                await TranscribeAsync(item, transcript);
            }

            await SendAsync(new { type = "input_audio_buffer.committed", event_id = NextId("evt"), previous_item_id = (string?)null, item_id = item });
            if (transcribe && !transcribedFirst)
            {
                await TranscribeAsync(item, transcript);
            }

            return item;
        }

        /// <summary>Part of the transcription of a user item, as the service streams it before the completion.</summary>
        public Task TranscriptionDeltaAsync(string itemId, string delta) =>
            SendAsync(new { type = "conversation.item.input_audio_transcription.delta", event_id = NextId("evt"), item_id = itemId, content_index = 0, delta });

        /// <summary>The transcription of a user item completes.</summary>
        public Task TranscribeAsync(string itemId, string transcript) =>
            SendAsync(new { type = "conversation.item.input_audio_transcription.completed", event_id = NextId("evt"), item_id = itemId, content_index = 0, transcript });

        /// <summary>Only the start of the user's speech (barge-in), with the item it will become.</summary>
        public async Task<string> SpeechStartsAsync()
        {
            var item = NextId("item_user");
            await SendAsync(new { type = "input_audio_buffer.speech_started", event_id = NextId("evt"), audio_start_ms = 5000, item_id = item });
            return item;
        }

        /// <summary>The model answers: response.created, the assistant item (<paramref name="itemId"/>, or a new id),
        /// <paramref name="audio"/> of PCM16 in deltas, the transcript, and (unless <paramref name="finish"/> is false) the
        /// done events. Returns the assistant item's id.</summary>
        public async Task<string> ReplyAsync(string transcript, TimeSpan audio, bool finish = true, string? itemId = null)
        {
            var response = NextId("resp");
            var item = itemId ?? NextId("item_assistant");
            await SendAsync(new { type = "response.created", event_id = NextId("evt"), response = new { id = response, @object = "realtime.response", status = "in_progress", output = Array.Empty<object>() } });
            var itemJson = new { id = item, type = "message", role = "assistant", status = "in_progress", content = Array.Empty<object>() };
            await SendAsync(new { type = "response.output_item.added", event_id = NextId("evt"), response_id = response, output_index = 0, item = itemJson });
            await SendAsync(new { type = "response.output_audio_transcript.delta", event_id = NextId("evt"), response_id = response, item_id = item, output_index = 0, content_index = 0, delta = transcript });
            var bytes = (int)(audio.TotalMilliseconds * 48);
            const int chunk = 4800;
            for (var sent = 0; sent < bytes; sent += chunk)
            {
                var pcm = new byte[Math.Min(chunk, bytes - sent)];
                await SendAsync(new { type = "response.output_audio.delta", event_id = NextId("evt"), response_id = response, item_id = item, output_index = 0, content_index = 0, delta = Convert.ToBase64String(pcm) });
            }

            if (finish)
            {
                await FinishReplyAsync(response, item, transcript);
            }

            return item;
        }

        public async Task FinishReplyAsync(string response, string item, string transcript)
        {
            await SendAsync(new { type = "response.output_audio.done", event_id = NextId("evt"), response_id = response, item_id = item, output_index = 0, content_index = 0 });
            await SendAsync(new { type = "response.output_audio_transcript.done", event_id = NextId("evt"), response_id = response, item_id = item, output_index = 0, content_index = 0, transcript });
            var done = new { id = item, type = "message", role = "assistant", status = "completed", content = new object[] { new { type = "output_audio", transcript } } };
            await SendAsync(new { type = "response.output_item.done", event_id = NextId("evt"), response_id = response, output_index = 0, item = done });
            await SendAsync(new { type = "response.done", event_id = NextId("evt"), response = new { id = response, @object = "realtime.response", status = "completed", output = new object[] { done } } });
        }

        /// <summary>The model calls a function; returns the call id.</summary>
        public async Task<string> CallFunctionAsync(string name, string argumentsJson)
        {
            var response = NextId("resp");
            var call = NextId("call");
            var item = new { id = NextId("item_fc"), type = "function_call", status = "completed", call_id = call, name, arguments = argumentsJson };
            await SendAsync(new { type = "response.created", event_id = NextId("evt"), response = new { id = response, status = "in_progress", output = Array.Empty<object>() } });
            await SendAsync(new { type = "response.output_item.done", event_id = NextId("evt"), response_id = response, output_index = 0, item });
            await SendAsync(new { type = "response.done", event_id = NextId("evt"), response = new { id = response, status = "completed", output = new object[] { item } } });
            return call;
        }

        /// <summary>Breaks the connection without a close handshake, as a network failure would.</summary>
        public void Drop()
        {
            _socket.Abort();
            _client.Client.Close(0);   // resets the TCP connection itself
        }

        private string NextId(string prefix) => $"{prefix}_{Interlocked.Increment(ref _items):D4}";

        private async Task ReceiveAsync()
        {
            var buffer = new byte[64 * 1024];
            var message = new MemoryStream();
            try
            {
                while (_socket.State == WebSocketState.Open)
                {
                    var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                        return;
                    }

                    message.Write(buffer, 0, result.Count);
                    if (!result.EndOfMessage)
                    {
                        continue;
                    }

                    var json = JsonNode.Parse(message.ToArray())!.AsObject();
                    message.SetLength(0);
                    lock (_received)
                    {
                        _received.Add(json);
                    }

                    Received?.Invoke(json);
                    await ReactAsync(json);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The connection ended (dropped on purpose by a test, or the client went away).
            }
        }

        private async Task ReactAsync(JsonObject json)
        {
            switch ((string?)json["type"])
            {
                case "session.update":
                    var session = json["session"]?.DeepClone() ?? new JsonObject();
                    await SendRawAsync(new JsonObject { ["type"] = "session.updated", ["event_id"] = NextId("evt"), ["session"] = session }.ToJsonString());
                    break;
                case "input_audio_buffer.append":
                    Interlocked.Add(ref _audioBytes, Convert.FromBase64String((string?)json["audio"] ?? string.Empty).Length);
                    break;
                case "conversation.item.truncate":
                    await SendAsync(new { type = "conversation.item.truncated", event_id = NextId("evt"), item_id = (string?)json["item_id"], content_index = (int?)json["content_index"] ?? 0, audio_end_ms = (long?)json["audio_end_ms"] ?? 0 });
                    break;
                case "input_audio_buffer.commit" when _server.AutoReply is { } reply:
                    var item = NextId("item_user");
                    await SendAsync(new { type = "input_audio_buffer.committed", event_id = NextId("evt"), previous_item_id = (string?)null, item_id = item });
                    await TranscribeAsync(item, _server.AutoTranscript);
                    break;
                case "response.create" when _server.AutoReply is { } reply:
                    await ReplyAsync(reply, _server.AutoReplyAudio);
                    break;
            }
        }
    }
}
