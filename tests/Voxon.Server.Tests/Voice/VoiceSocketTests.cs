using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Voxon.Engine.Realtime;
using Voxon.Server.Tests.Support;
using Voxon.Tests.TestSupport;

namespace Voxon.Server.Tests.Voice;

/// <summary>The voice WebSocket against the loopback realtime server: audio relayed both ways, turns and memories
/// recorded through the library, keys and tenants checked before the upgrade, a dropped realtime socket reported.</summary>
public sealed class VoiceSocketTests(VoiceSocketTests.Fixture fixture) : IClassFixture<VoiceSocketTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public LoopbackRealtimeServer Realtime { get; } = LoopbackRealtimeServer.Start();

        public ServerInstance Server { get; private set; } = null!;

        public async Task InitializeAsync() => Server = await ServerInstance.StartAsync(o => o.ConfigureVoxon = v =>
        {
            v.UseEnvironment = false;
            // Without reconnecting: a dropped socket is the error the relay must report (reconnecting is tested on the engine).
            v.Realtime = new RealtimeOptions { Endpoint = Realtime.Endpoint, ApiKey = "test-key", Model = "gpt-realtime-test", MaxReconnectAttempts = 0 };
        });

        public async Task DisposeAsync()
        {
            await Server.DisposeAsync();
            await Realtime.DisposeAsync();
        }
    }

    private ServerInstance Server => fixture.Server;

    [Fact]
    public async Task Audio_is_relayed_both_ways_and_the_spoken_name_is_stored_as_a_turn_and_a_memory()
    {
        var id = await Server.CreateSessionAsync(user: "alice", body: new { user_id = "alice", config = new { memory_mode = "persistent" } });
        await using var client = await VoiceClient.ConnectAsync(Voice(id), Server.KeyA);
        var realtime = await fixture.Realtime.AcceptAsync();
        await realtime.WaitForAsync("session.update");
        var started = await client.NextEventAsync("started");
        var conversationId = started.GetProperty("conversation_id").GetString()!;

        var spoken = Enumerable.Range(0, 4800).Select(i => (byte)(i * 7)).ToArray();     // 100 ms of PCM16
        await client.SendAudioAsync(spoken);
        var append = await realtime.WaitForAsync("input_audio_buffer.append");
        Assert.Equal(spoken, Convert.FromBase64String((string)append["audio"]!));

        await realtime.UserSaysAsync("My name is Alice", TimeSpan.FromSeconds(2));
        var user = await client.NextEventAsync("transcript");
        Assert.Equal("user", user.GetProperty("role").GetString());
        Assert.Equal("My name is Alice", user.GetProperty("text").GetString());

        var item = await realtime.ReplyAsync("Nice to meet you, Alice.", TimeSpan.FromMilliseconds(500));
        Assert.Equal(item, (await client.NextEventAsync("audio")).GetProperty("item_id").GetString());
        await client.WaitForAudioAsync(RealtimeAudio.Bytes(TimeSpan.FromMilliseconds(500)));
        await client.SendTextAsync("""{"type":"playback","played_ms":500}""");
        var assistant = await client.NextEventAsync("transcript");
        Assert.Equal("assistant", assistant.GetProperty("role").GetString());
        Assert.Equal("Nice to meet you, Alice.", assistant.GetProperty("text").GetString());

        await client.CloseAsync();
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.Socket.CloseStatus);

        var api = Server.Client(Server.KeyA);
        var turns = (await api.GetFromJsonAsync<JsonElement>($"/v1/sessions/{id}/conversations/{conversationId}")).GetProperty("turns");
        Assert.Equal(["My name is Alice", "Nice to meet you, Alice."], turns.EnumerateArray().Select(t => t.GetProperty("content").GetString()));
        var memories = await api.GetFromJsonAsync<JsonElement>($"/v1/sessions/{id}/memory");
        Assert.Contains(memories.GetProperty("entries").EnumerateArray(), m => m.GetProperty("content").GetString()!.Contains("Alice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Keys_and_tenants_are_checked_before_the_upgrade()
    {
        var id = await Server.CreateSessionAsync(user: "carol");

        Assert.Equal(HttpStatusCode.NotFound, await VoiceClient.RefusedAsync(Voice(id), Server.KeyB));
        Assert.Equal(HttpStatusCode.Unauthorized, await VoiceClient.RefusedAsync(Voice(id), key: null));
        Assert.Equal(HttpStatusCode.Unauthorized, await VoiceClient.RefusedAsync(new Uri(Voice(id) + "?access_token=not-a-key"), key: null));

        var plain = await Server.Client(Server.KeyA).GetAsync($"/v1/sessions/{id}/voice");
        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        Assert.Equal("application/problem+json", plain.Content.Headers.ContentType?.MediaType);
        Assert.Contains("WebSocket", await plain.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Browsers cannot set headers on a WebSocket: the key rides in a subprotocol or the query.
        await using (var browser = await VoiceClient.ConnectAsync(Voice(id), key: null, protocols: ["voxon.v1", "bearer." + Server.KeyA]))
        {
            Assert.Equal("voxon.v1", browser.Socket.SubProtocol);
            await fixture.Realtime.AcceptAsync();
            await browser.NextEventAsync("started");
            await browser.CloseAsync();
        }

        await using (var query = await VoiceClient.ConnectAsync(new Uri($"{Voice(id)}?access_token={Uri.EscapeDataString(Server.KeyA)}"), key: null))
        {
            await fixture.Realtime.AcceptAsync();
            await query.NextEventAsync("started");
            await query.CloseAsync();
        }
    }

    [Fact]
    public async Task Speech_over_a_reply_tells_the_client_to_stop_playing_it_and_a_bad_event_gets_an_error()
    {
        var id = await Server.CreateSessionAsync(user: "erin");
        await using var client = await VoiceClient.ConnectAsync(Voice(id), Server.KeyA);
        var realtime = await fixture.Realtime.AcceptAsync();
        await realtime.WaitForAsync("session.update");
        await client.NextEventAsync("started");

        await realtime.UserSaysAsync("Tell me a story");
        var item = await realtime.ReplyAsync("Once upon a time a small fox lived in a quiet forest near a wide river and dreamed of the sea", TimeSpan.FromSeconds(4));
        await client.WaitForAudioAsync(RealtimeAudio.Bytes(TimeSpan.FromSeconds(4)));
        await client.ReportPlaybackAsync($$"""{"type":"playback","item_id":"{{item}}","played_ms":1000}""");
        Assert.Contains("'dance'", client.LastProbeError, StringComparison.Ordinal);
        await realtime.SpeechStartsAsync();

        Assert.Equal(item, (await client.NextEventAsync("interrupted")).GetProperty("item_id").GetString());
        var truncate = await realtime.WaitForAsync("conversation.item.truncate");
        Assert.Equal(1000, (int?)truncate["audio_end_ms"]);
        var heard = await client.NextEventAsync("transcript", "Once upon a time a");
        Assert.True(heard.GetProperty("interrupted").GetBoolean());
        await client.CloseAsync();
    }

    [Fact]
    public async Task Dropped_realtime_socket_sends_an_error_and_every_recorded_turn_is_stored()
    {
        var id = await Server.CreateSessionAsync(user: "dave", body: new { user_id = "dave", config = new { memory_mode = "persistent" } });
        await using var client = await VoiceClient.ConnectAsync(Voice(id), Server.KeyA);
        var realtime = await fixture.Realtime.AcceptAsync();
        await realtime.WaitForAsync("session.update");
        var conversationId = (await client.NextEventAsync("started")).GetProperty("conversation_id").GetString()!;

        await realtime.UserSaysAsync("My name is Dave");
        await realtime.ReplyAsync("Hello Dave.", TimeSpan.FromMilliseconds(300));
        await client.WaitForAudioAsync(RealtimeAudio.Bytes(TimeSpan.FromMilliseconds(300)));
        await client.ReportPlaybackAsync("""{"type":"playback","played_ms":300}""");
        await realtime.UserSaysAsync("I like chess");
        await client.NextEventAsync("transcript", "I like chess");
        realtime.Drop();

        var error = await client.NextEventAsync("error");
        Assert.Contains("dropped", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        await client.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.InternalServerError, client.Socket.CloseStatus);

        var api = Server.Client(Server.KeyA);
        var turns = (await api.GetFromJsonAsync<JsonElement>($"/v1/sessions/{id}/conversations/{conversationId}")).GetProperty("turns");
        Assert.Equal(["My name is Dave", "Hello Dave.", "I like chess"], turns.EnumerateArray().Select(t => t.GetProperty("content").GetString()));
        var memories = await api.GetFromJsonAsync<JsonElement>($"/v1/sessions/{id}/memory");
        Assert.Contains(memories.GetProperty("entries").EnumerateArray(), m => m.GetProperty("content").GetString()!.Contains("chess", StringComparison.OrdinalIgnoreCase));
        var stored = await Server.Client(Server.KeyA).GetFromJsonAsync<JsonElement>($"/v1/sessions/{id}/conversations");
        Assert.Contains(stored.EnumerateArray(), c => c.GetProperty("conversation_id").GetString() == conversationId && c.GetProperty("ended_at").ValueKind == JsonValueKind.String);
    }

    [Fact]
    public async Task Reconnected_realtime_socket_is_announced_to_the_client_and_the_call_goes_on()
    {
        await using var realtime = LoopbackRealtimeServer.Start();
        await using var server = await ServerInstance.StartAsync(o => o.ConfigureVoxon = v =>
        {
            v.UseEnvironment = false;
            v.Realtime = new RealtimeOptions { Endpoint = realtime.Endpoint, ApiKey = "test-key", MaxReconnectAttempts = 2, ReconnectDelay = TimeSpan.FromMilliseconds(10) };
        });
        var id = await server.CreateSessionAsync(user: "gus");
        await using var client = await VoiceClient.ConnectAsync(new Uri($"ws://{server.BaseAddress.Authority}/v1/sessions/{id}/voice"), server.KeyA);
        var first = await realtime.AcceptAsync();
        await first.WaitForAsync("session.update");
        await client.NextEventAsync("started");
        await first.UserSaysAsync("Hello there");
        await client.NextEventAsync("transcript", "Hello there");

        first.Drop();

        var second = await realtime.AcceptAsync();
        await second.WaitForAsync("session.update");
        Assert.Equal(1, (await client.NextEventAsync("reconnected")).GetProperty("attempt").GetInt32());
        await second.UserSaysAsync("Are you still there?");
        await client.NextEventAsync("transcript", "Are you still there?");
        await client.CloseAsync();
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.Socket.CloseStatus);
    }

    [Fact]
    public async Task Unreachable_realtime_service_is_answered_502_before_the_upgrade_and_the_session_stays_usable()
    {
        var closed = LoopbackRealtimeServer.Start();
        var endpoint = closed.Endpoint;
        await closed.DisposeAsync();
        await using var server = await ServerInstance.StartAsync(o => o.ConfigureVoxon = v =>
        {
            v.UseEnvironment = false;
            v.Realtime = new RealtimeOptions { Endpoint = endpoint, ApiKey = "test-key" };
        });
        var id = await server.CreateSessionAsync(user: "fay");
        Assert.Equal(HttpStatusCode.BadGateway, await RefusedUpgradeAsync(server, id));

        var conversation = await server.StartConversationAsync(id);
        Assert.False(string.IsNullOrEmpty(await server.SendAsync(id, conversation, "Hello")));
    }

    [Fact]
    public async Task A_server_without_a_realtime_endpoint_answers_501_not_a_client_error()
    {
        await using var server = await ServerInstance.StartAsync();
        Assert.Equal(HttpStatusCode.NotImplemented, await RefusedUpgradeAsync(server, await server.CreateSessionAsync(user: "gil")));
    }

    /// <summary>The HTTP status with which <paramref name="server"/> refuses the voice socket of session <paramref name="id"/>.</summary>
    private static async Task<HttpStatusCode> RefusedUpgradeAsync(ServerInstance server, string id)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + server.KeyA);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"ws://{server.BaseAddress.Authority}/v1/sessions/{id}/voice"), CancellationToken.None));
        return socket.HttpStatusCode;
    }

    private Uri Voice(string sessionId) => new($"ws://{Server.BaseAddress.Authority}/v1/sessions/{sessionId}/voice");

    /// <summary>A client of the voice socket: binary frames counted as audio, text frames queued as events.</summary>
    private sealed class VoiceClient : IAsyncDisposable
    {
        private readonly Channel<JsonElement> _events = Channel.CreateUnbounded<JsonElement>();
        private readonly Task _receiving;
        private long _audioBytes;

        private VoiceClient(ClientWebSocket socket)
        {
            Socket = socket;
            _receiving = Task.Run(ReceiveAsync);
        }

        public ClientWebSocket Socket { get; }

        public static async Task<VoiceClient> ConnectAsync(Uri uri, string? key, string[]? protocols = null)
        {
            var socket = Create(key, protocols);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await socket.ConnectAsync(uri, timeout.Token);
            return new VoiceClient(socket);
        }

        /// <summary>The HTTP status a refused connection got.</summary>
        public static async Task<HttpStatusCode> RefusedAsync(Uri uri, string? key)
        {
            using var socket = Create(key, null);
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, CancellationToken.None));
            return socket.HttpStatusCode;
        }

        private static ClientWebSocket Create(string? key, string[]? protocols)
        {
            var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            if (key is not null)
            {
                socket.Options.SetRequestHeader("Authorization", "Bearer " + key);
            }

            foreach (var protocol in protocols ?? [])
            {
                socket.Options.AddSubProtocol(protocol);
            }

            return socket;
        }

        public Task SendAudioAsync(byte[] pcm16) => Socket.SendAsync(pcm16, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);

        public Task SendTextAsync(string json) => Socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        /// <summary>The error message the last probe of <see cref="ReportPlaybackAsync"/> got back.</summary>
        public string? LastProbeError { get; private set; }

        /// <summary>Sends a playback report and returns once the relay has taken it: the relay handles client frames in
        /// order, so the answer to a bad event sent after it means the report reached the engine. Only then may the
        /// test let the user's speech start, or it would race the report.</summary>
        public async Task ReportPlaybackAsync(string playbackJson)
        {
            await SendTextAsync(playbackJson);
            await SendTextAsync("""{"type":"dance"}""");
            LastProbeError = (await NextEventAsync("error")).GetProperty("message").GetString();
        }

        /// <summary>The next event of <paramref name="type"/> (with <paramref name="text"/>, when given), skipping others.</summary>
        public async Task<JsonElement> NextEventAsync(string type, string? text = null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (true)
            {
                var e = await _events.Reader.ReadAsync(timeout.Token);
                if (e.GetProperty("type").GetString() == type && (text is null || e.GetProperty("text").GetString() == text))
                {
                    return e;
                }
            }
        }

        public async Task WaitForAudioAsync(long bytes)
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (Interlocked.Read(ref _audioBytes) < bytes)
            {
                Assert.True(DateTime.UtcNow < deadline, $"only {Interlocked.Read(ref _audioBytes)} of {bytes} audio bytes arrived");
                await Task.Delay(10);
            }
        }

        public async Task CloseAsync()
        {
            await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            await WaitClosedAsync();
        }

        public Task WaitClosedAsync() => _receiving.WaitAsync(TimeSpan.FromSeconds(20));

        private async Task ReceiveAsync()
        {
            var buffer = new byte[64 * 1024];
            var message = new MemoryStream();
            while (true)
            {
                var result = await Socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (Socket.State == WebSocketState.CloseReceived)
                    {
                        await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    }

                    _events.Writer.TryComplete();
                    return;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    Interlocked.Add(ref _audioBytes, message.Length);
                }
                else
                {
                    _events.Writer.TryWrite(JsonDocument.Parse(message.ToArray()).RootElement.Clone());
                }

                message.SetLength(0);
            }
        }

        public ValueTask DisposeAsync()
        {
            Socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
