using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using Voxon.Conversations;
using Voxon.Engine.Realtime;
using Voxon.Sessions;
using Voxon.Turns;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Engine;

/// <summary>The realtime speech engine against a loopback server speaking the OpenAI Realtime events.</summary>
public sealed class RealtimeEngineTests : IAsyncLifetime
{
    private readonly LoopbackRealtimeServer _server = LoopbackRealtimeServer.Start();
    private TestVoxon _voxon = null!;

    public async Task InitializeAsync()
    {
        _voxon = new TestVoxon(configure: o =>
        {
            o.Realtime = new RealtimeOptions { Endpoint = _server.Endpoint, ApiKey = "test-key", Model = "gpt-realtime-test" };
        });

        // As a voice server does at startup: the embedding models load (the int8 query model is derived) here, not in
        // the first user turn, whose recording the tests wait for with a deadline.
        await _voxon.Client.WarmUpAsync();
    }

    public async Task DisposeAsync()
    {
        await _voxon.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Session_configuration_carries_memory_voice_speed_vad_and_transcription()
    {
        var session = await _voxon.CreateSessionAsync(new SessionConfig { Instructions = "You are a patient tutor", Voice = "verse", Language = "fr-FR" });
        session.AddMemory("User's name is Alice", category: "identity", importance: 0.9);
        session.AddMemory("User's card PIN is 4921", category: "identity", importance: 0.9, sensitive: true);
        session.SetPreference("speaking_pace", "180");

        await using var voice = await session.StartVoiceConversationAsync();
        var connection = await _server.AcceptAsync();
        var update = await connection.WaitForAsync("session.update");

        Assert.Contains("model=gpt-realtime-test", connection.Query, StringComparison.Ordinal);
        Assert.Equal("Bearer test-key", connection.Headers["Authorization"]);
        var config = update["session"]!.AsObject();
        Assert.Equal("realtime", (string?)config["type"]);
        var instructions = (string)config["instructions"]!;
        Assert.StartsWith("You are a patient tutor", instructions, StringComparison.Ordinal);
        Assert.Contains("fr-FR", instructions, StringComparison.Ordinal);
        Assert.Contains("Alice", instructions, StringComparison.Ordinal);
        Assert.DoesNotContain("4921", instructions, StringComparison.Ordinal);
        Assert.DoesNotContain("PIN", instructions, StringComparison.Ordinal);

        var output = config["audio"]!["output"]!;
        Assert.Equal("verse", (string?)output["voice"]);
        Assert.Equal(1.2, (double)output["speed"]!, 3);     // 180 words/min against a normal 150
        Assert.Equal("audio/pcm", (string?)output["format"]!["type"]);
        var input = config["audio"]!["input"]!;
        Assert.Equal("server_vad", (string?)input["turn_detection"]!["type"]);
        Assert.Equal(true, (bool?)input["turn_detection"]!["create_response"]);
        Assert.Equal(true, (bool?)input["turn_detection"]!["interrupt_response"]);
        Assert.Equal("gpt-4o-mini-transcribe", (string?)input["transcription"]!["model"]);
        Assert.Equal("fr", (string?)input["transcription"]!["language"]);
        Assert.Equal(24_000, (int?)input["format"]!["rate"]);
        Assert.Null(config["tools"]);                       // functions are off
    }

    [Fact]
    public async Task Transcribed_name_becomes_a_memory_the_next_voice_conversation_is_configured_with()
    {
        var session = await _voxon.CreateSessionAsync(new SessionConfig { MemoryMode = MemoryMode.Persistent });
        await using (var voice = await session.StartVoiceConversationAsync())
        {
            var connection = await _server.AcceptAsync();
            var first = await connection.WaitForAsync("session.update");
            Assert.DoesNotContain("Alice", (string)first["session"]!["instructions"]!, StringComparison.Ordinal);

            await connection.UserSaysAsync("My name is Alice", TimeSpan.FromSeconds(2));
            var reweave = await connection.WaitForAsync("session.update", 2);
            Assert.NotNull(reweave["session"]!["instructions"]);
            // A re-weave changes the instructions of the realtime session only (the event is written by the engine).
            Assert.Equal(["type", "session"], reweave.Select(p => p.Key));
            Assert.Equal(["type", "instructions"], reweave["session"]!.AsObject().Select(p => p.Key));
            Assert.Equal("realtime", (string?)reweave["session"]!["type"]);
            await Eventually(() => voice.Transcript.Count == 1);

            var reply = await connection.ReplyAsync("Nice to meet you, Alice.", TimeSpan.FromMilliseconds(500));
            await ReadAudioAsync(voice, TimeSpan.FromMilliseconds(500));
            voice.ReportPlayback(reply, TimeSpan.FromMilliseconds(500));
            await Eventually(() => voice.Transcript.Count == 2);

            Assert.Equal([TurnRole.User, TurnRole.Assistant], voice.Transcript.Select(t => t.Role));
            Assert.Equal("My name is Alice", voice.Transcript[0].Content);
            Assert.Equal(2.0, voice.Transcript[0].AudioSeconds);
            Assert.Equal("Nice to meet you, Alice.", voice.Transcript[1].Content);
            Assert.False(voice.Transcript[1].Interrupted);
        }

        Assert.Contains(session.GetMemory().Entries, m => m.Content.Contains("Alice", StringComparison.Ordinal));

        await using var again = await session.StartVoiceConversationAsync();
        var second = await _server.AcceptAsync();
        var update = await second.WaitForAsync("session.update");
        Assert.Contains("Alice", (string)update["session"]!["instructions"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transcribed_words_update_the_live_session_at_once_then_with_what_their_meaning_finds()
    {
        var session = await _voxon.CreateSessionAsync();
        session.AddMemory("User's sister Maria lives in Lisbon", category: "fact", importance: 0.5);
        var dog = session.AddMemory("User owns a golden retriever called Biscuit", category: "fact", importance: 0.5);
        await using var voice = await session.StartVoiceConversationAsync();
        var connection = await _server.AcceptAsync();
        await connection.WaitForAsync("session.update");

        // The first update is woven from the words alone: the memory sharing a word with them is in it at once.
        await connection.UserSaysAsync("When should I call my sister?");
        var sister = (string)(await connection.WaitForAsync("session.update", 2))["session"]!["instructions"]!;
        Assert.Contains("Lisbon", sister, StringComparison.Ordinal);
        await Eventually(() => voice.Transcript.Count == 1);

        // Words that share nothing with a memory find it by their embedding, in the update that follows.
        var before = connection.EventsOf("session.update").Count;
        await connection.UserSaysAsync("How is my puppy doing?");
        var quick = (string)(await connection.WaitForAsync("session.update", before + 1))["session"]!["instructions"]!;
        Assert.DoesNotContain("Biscuit", quick, StringComparison.Ordinal);
        var refined = (string)(await connection.WaitForAsync("session.update", before + 2))["session"]!["instructions"]!;
        Assert.Contains("Biscuit", refined, StringComparison.Ordinal);
        await Eventually(() => voice.Transcript.Count == 2);
        Assert.Contains(dog.Id, voice.Transcript[1].InjectedMemoryIds ?? []);
    }

    [Fact]
    public async Task Transcription_streamed_in_deltas_updates_the_live_session_with_the_context_of_the_final_words()
    {
        var session = await _voxon.CreateSessionAsync();
        session.AddMemory("User's sister Maria lives in Lisbon", category: "fact", importance: 0.5);
        await using var voice = await session.StartVoiceConversationAsync();
        var connection = await _server.AcceptAsync();
        await connection.WaitForAsync("session.update");

        // The words so far are woven ahead; the completed transcription says more, and its context is what is sent.
        var first = await connection.UserSaysAsync("When should I call my sister?", transcribe: false);
        await connection.TranscriptionDeltaAsync(first, "When should ");
        await connection.TranscriptionDeltaAsync(first, "I call");
        await Task.Delay(50);
        await connection.TranscribeAsync(first, "When should I call my sister?");
        Assert.Contains("Lisbon", (string)(await connection.WaitForAsync("session.update", 2))["session"]!["instructions"]!, StringComparison.Ordinal);
        await Eventually(() => voice.Transcript.Count == 1);

        // Deltas that add up to the completed words: the context woven ahead goes out.
        var before = connection.EventsOf("session.update").Count;
        var second = await connection.UserSaysAsync("Is my sister still in Lisbon?", transcribe: false);
        foreach (var delta in (string[])["Is my ", "sister still ", "in Lisbon?"])
        {
            await connection.TranscriptionDeltaAsync(second, delta);
        }

        await Task.Delay(50);
        await connection.TranscribeAsync(second, "Is my sister still in Lisbon?");
        Assert.Contains("Lisbon", (string)(await connection.WaitForAsync("session.update", before + 1))["session"]!["instructions"]!, StringComparison.Ordinal);
        await Eventually(() => voice.Transcript.Count == 2);
        Assert.Equal(["When should I call my sister?", "Is my sister still in Lisbon?"], voice.Transcript.Select(t => t.Content));
    }

    [Fact]
    public async Task Speech_during_playback_truncates_to_the_audio_played_and_stores_only_what_was_heard()
    {
        var session = await _voxon.CreateSessionAsync();
        await using var voice = await session.StartVoiceConversationAsync();
        string? interrupted = null;
        voice.PlaybackInterrupted += (_, item) => interrupted = item;
        voice.PlaybackInterrupted += (_, _) => throw new InvalidOperationException("a bug in the player");     // logged, not fatal
        var connection = await _server.AcceptAsync();
        await connection.WaitForAsync("session.update");

        await connection.UserSaysAsync("Tell me a story");
        const string story = "Once upon a time a small fox lived in a quiet forest near a wide river and dreamed of the sea";
        var item = await connection.ReplyAsync(story, TimeSpan.FromSeconds(4));
        await ReadAudioAsync(voice, TimeSpan.FromSeconds(4));
        voice.ReportPlayback(item, TimeSpan.FromSeconds(1));
        await connection.SpeechStartsAsync();

        var truncate = await connection.WaitForAsync("conversation.item.truncate");
        Assert.Equal(item, (string?)truncate["item_id"]);
        Assert.Equal(0, (int?)truncate["content_index"]);
        Assert.Equal(1000, (int?)truncate["audio_end_ms"]);
        await Eventually(() => voice.Transcript.Count == 2);

        var stored = voice.Transcript[1];
        Assert.True(stored.Interrupted);
        Assert.Equal("Once upon a time a", stored.Content);      // a quarter of the audio: 5 of the 21 words
        Assert.Equal(item, interrupted);
        Assert.Equal(1, voice.Conversation.GetAnalytics().InterruptionCount);
        Assert.False(voice.Completion.IsCompleted);
    }

    [Fact]
    public async Task A_transcription_sent_before_its_commit_is_recorded_and_holds_back_no_reply()
    {
        var session = await _voxon.CreateSessionAsync();
        await using var voice = await session.StartVoiceConversationAsync();
        var connection = await _server.AcceptAsync();
        await connection.WaitForAsync("session.update");

        await connection.UserSaysAsync("What time is it?", transcribedFirst: true);
        var noon = await connection.ReplyAsync("It is noon.", TimeSpan.FromMilliseconds(200));
        await ReadAudioAsync(voice, TimeSpan.FromMilliseconds(200));
        voice.ReportPlayback(noon, TimeSpan.FromMilliseconds(200));
        await Eventually(() => voice.Transcript.Count == 2);

        await connection.UserSaysAsync("Thanks");
        var welcome = await connection.ReplyAsync("You are welcome.", TimeSpan.FromMilliseconds(200));
        await ReadAudioAsync(voice, TimeSpan.FromMilliseconds(200));
        voice.ReportPlayback(welcome, TimeSpan.FromMilliseconds(200));
        await Eventually(() => voice.Transcript.Count == 4);
        Assert.Equal(["What time is it?", "It is noon.", "Thanks", "You are welcome."], voice.Transcript.Select(t => t.Content));
    }

    [Fact]
    public async Task Dropped_socket_without_reconnecting_raises_a_clear_error_and_loses_no_recorded_turn()
    {
        var session = await _voxon.CreateSessionAsync(new SessionConfig { MemoryMode = MemoryMode.Persistent });
        var (voice, connection) = await GreetedWithoutReconnectingAsync(session);
        await connection.UserSaysAsync("I like chess");
        await connection.ReplyAsync("Chess is a wonderful game of patience and plans.", TimeSpan.FromSeconds(2), finish: false);
        await ReadAudioAsync(voice, TimeSpan.FromSeconds(2));
        connection.Drop();

        var error = await Assert.ThrowsAsync<RealtimeConnectionException>(() => voice.Completion);
        Assert.Contains("dropped", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RealtimeConnectionException>(() => voice.SendAudioAsync(new byte[480]));
        Assert.Equal(["My name is Alice", "Hello Alice.", "I like chess"], voice.Transcript.Take(3).Select(t => t.Content));
        Assert.Equal(4, voice.Transcript.Count);
        Assert.True(voice.Transcript[3].Interrupted);               // cut off by the drop while it was being generated

        await voice.DisposeAsync();                                 // ends the conversation and saves
        var loaded = await _voxon.NewClient().LoadSessionAsync(session.SessionId);
        Assert.Equal(4, loaded.GetTranscript(voice.ConversationId).Count);
        Assert.Contains(loaded.GetMemory().Entries, m => m.Content.Contains("chess", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task An_event_that_cannot_be_read_ends_the_connection_with_a_clear_error_and_keeps_the_turns()
    {
        var session = await _voxon.CreateSessionAsync(new SessionConfig { MemoryMode = MemoryMode.Persistent });
        var (voice, connection) = await GreetedWithoutReconnectingAsync(session);
        await Eventually(() => voice.Transcript.Count == 2);

        // Audio that is not base64: the SDK cannot read the event.
        await connection.SendRawAsync("""{"type":"response.output_audio.delta","event_id":"evt_bad","response_id":"resp_bad","item_id":"item_bad","output_index":0,"content_index":0,"delta":"!!not base64!!"}""");

        var error = await Assert.ThrowsAsync<RealtimeConnectionException>(() => voice.Completion.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("dropped", error.Message, StringComparison.Ordinal);
        await voice.DisposeAsync();                                 // ends the conversation and saves
        var loaded = await _voxon.NewClient().LoadSessionAsync(session.SessionId);
        Assert.Equal(["My name is Alice", "Hello Alice."], loaded.GetTranscript(voice.ConversationId).Select(t => t.Content));
        Assert.NotNull(Assert.Single(loaded.Conversations).EndedAt);
    }

    [Fact]
    public async Task Weaving_a_realtime_turn_does_not_copy_the_conversation_so_far()
    {
        // The live session keeps its own dialogue: the weave for its instructions costs the same after thousands of
        // turns as after a few (it copied the whole history each time, on the path to the session.update).
        var session = await _voxon.CreateSessionAsync(new SessionConfig { MemoryMode = MemoryMode.Persistent });
        session.AddMemory("User likes chess", category: "preference", importance: 0.8);
        var conversation = await session.StartConversationAsync();
        var turns = new RealtimeTurns(session.Turns, conversation);
        long Allocated()
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            turns.PrepareUserTurn("What do I like?", null);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Allocated();
        var few = Allocated();
        for (var i = 0; i < 5_000; i++)
        {
            await session.Turns.RecordAsync(conversation, new TurnInput($"Tell me about topic {i}", [], Voxon.Context.WovenContext.Empty, [], null), null, null, CancellationToken.None);
        }

        Allocated();
        var many = Allocated();
        Assert.True(many - few < 16 * 1024, $"{few} bytes with 0 turns, {many} with 5,000");
    }

    [Fact]
    public async Task Unexpected_error_inside_the_engine_faults_completion_with_the_realtime_error_and_keeps_the_turns()
    {
        var session = await _voxon.CreateSessionAsync(new SessionConfig { MemoryMode = MemoryMode.Persistent });
        var conversation = await session.StartConversationAsync();
        var sink = new FailingSink(new RealtimeTurns(session.Turns, conversation), failOnWords: "I like chess");
        var setup = new RealtimeSetup("You are helpful", "alloy", 1.0, null, 1024, ServerVad: true, "gpt-4o-mini-transcribe", []);
        var engine = await RealtimeVoiceEngine.StartAsync(
            ServerOptions(maxReconnectAttempts: 0), setup, sink, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);
        var connection = await _server.AcceptAsync();
        await connection.WaitForAsync("session.update");

        await connection.UserSaysAsync("My name is Alice");
        var hello = await connection.ReplyAsync("Hello Alice.", TimeSpan.FromMilliseconds(300));
        engine.ReportPlayback(hello, TimeSpan.FromMilliseconds(300));
        await Eventually(() => conversation.Transcript.Count == 2);
        var chess = await connection.UserSaysAsync("I like chess", transcribe: false);
        await connection.ReplyAsync("Chess is a game of patience.", TimeSpan.FromSeconds(1), finish: false);
        await connection.TranscribeAsync(chess, "I like chess");     // the sink fails on these words: a bug, not the network

        var error = await Assert.ThrowsAsync<RealtimeConnectionException>(() => engine.Completion);
        Assert.IsType<KeyNotFoundException>(error.InnerException);
        Assert.Contains("unexpected error", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RealtimeConnectionException>(() => engine.SendAudioAsync(new byte[480], CancellationToken.None));
        // The reply being generated when the engine stopped is recorded as far as its audio arrived.
        Assert.Equal(["My name is Alice", "Hello Alice.", "Chess is a game of patience."], conversation.Transcript.Select(t => t.Content));
        Assert.True(conversation.Transcript[2].Interrupted);

        await engine.DisposeAsync();                                // does not throw again
        await conversation.EndAsync();
        Assert.Contains(session.GetMemory().Entries, m => m.Content.Contains("Alice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Playback_reported_before_the_engine_reads_the_reply_is_kept_for_it()
    {
        var session = await _voxon.CreateSessionAsync();
        await using var voice = await session.StartVoiceConversationAsync(new VoiceConversationOptions { Realtime = ServerOptions(maxReconnectAttempts: 0) });
        var connection = await _server.AcceptAsync();
        await connection.WaitForAsync("session.update");
        await connection.UserSaysAsync("Tell me a story");

        // The report reaches the engine before the reply it is about; then the user speaks over the reply.
        voice.ReportPlayback("item_assistant_early", TimeSpan.FromMilliseconds(1500));
        var item = await connection.ReplyAsync("Once upon a time a small fox lived in a quiet forest", TimeSpan.FromSeconds(2), itemId: "item_assistant_early");
        await ReadAudioAsync(voice, TimeSpan.FromSeconds(2));
        await connection.SpeechStartsAsync();

        // Cut where the report said, not where playing in real time from the first chunk would be (a few milliseconds).
        var truncate = await connection.WaitForAsync("conversation.item.truncate");
        Assert.Equal(item, (string?)truncate["item_id"]);
        Assert.Equal(1500, (int?)truncate["audio_end_ms"]);
    }

    [Fact]
    public async Task Dropped_socket_reconnects_with_the_woven_context_and_the_dialogue_and_the_conversation_goes_on()
    {
        var session = await _voxon.CreateSessionAsync(new SessionConfig { Voice = "verse" });
        session.AddMemory("User's name is Alice", category: "identity", importance: 0.9);
        session.AddMemory("User's sister Maria lives in Lisbon", category: "fact", importance: 0.5);
        await using var voice = await session.StartVoiceConversationAsync(new VoiceConversationOptions { Realtime = ServerOptions(maxReconnectAttempts: 3) });
        var reconnected = new List<int>();
        voice.Reconnected += (_, attempt) => reconnected.Add(attempt);
        var first = await _server.AcceptAsync();
        await first.WaitForAsync("session.update");
        await first.UserSaysAsync("When should I call my sister?");
        var hello = await first.ReplyAsync("Maria would love a call tonight.", TimeSpan.FromMilliseconds(300));
        await ReadAudioAsync(voice, TimeSpan.FromMilliseconds(300));
        voice.ReportPlayback(hello, TimeSpan.FromMilliseconds(300));
        await Eventually(() => voice.Transcript.Count == 2);
        var woven = (string)first.EventsOf("session.update")[^1]["session"]!["instructions"]!;
        Assert.Contains("Lisbon", woven, StringComparison.Ordinal);

        first.Drop();

        // A new session, configured in full with the context last woven, then told the dialogue so far.
        var second = await _server.AcceptAsync();
        var config = (await second.WaitForAsync("session.update"))["session"]!;
        Assert.Equal(woven, (string?)config["instructions"]);
        Assert.Equal("verse", (string?)config["audio"]!["output"]!["voice"]);
        Assert.Equal("server_vad", (string?)config["audio"]!["input"]!["turn_detection"]!["type"]);
        var replayed = await second.WaitForAsync("conversation.item.create", 2);
        Assert.Equal(
            [("user", "When should I call my sister?"), ("assistant", "Maria would love a call tonight.")],
            second.EventsOf("conversation.item.create").Select(e => ((string)e["item"]!["role"]!, (string)e["item"]!["content"]![0]!["text"]!)));
        await Eventually(() => reconnected.Count == 1);
        Assert.Equal([1], reconnected);

        // The conversation goes on over the new session.
        await second.UserSaysAsync("Remind me of her city");
        var reply = await second.ReplyAsync("She lives in Lisbon.", TimeSpan.FromMilliseconds(200));
        await ReadAudioAsync(voice, TimeSpan.FromMilliseconds(200));
        voice.ReportPlayback(reply, TimeSpan.FromMilliseconds(200));
        await Eventually(() => voice.Transcript.Count == 4);
        Assert.Equal(
            ["When should I call my sister?", "Maria would love a call tonight.", "Remind me of her city", "She lives in Lisbon."],
            voice.Transcript.Select(t => t.Content));
        Assert.False(voice.Completion.IsCompleted);
    }

    [Fact]
    public async Task Reconnect_replays_the_dialogue_as_heard_leaving_out_a_reply_heard_not_at_all()
    {
        var session = await _voxon.CreateSessionAsync();
        var text = await session.StartConversationAsync("before_the_call");
        await text.SendMessageAsync("Hello there");
        Assert.True(text.Interrupt(string.Empty)); // the user cut the reply off before a word of it
        await using var voice = await session.StartVoiceConversationAsync(new VoiceConversationOptions { ParentId = "before_the_call", Realtime = ServerOptions(maxReconnectAttempts: 3) });
        var first = await _server.AcceptAsync();
        await first.WaitForAsync("session.update");

        first.Drop();

        var second = await _server.AcceptAsync();
        await second.WaitForAsync("session.update");
        await second.UserSaysAsync("Are you there?");
        await second.WaitForAsync("session.update", 2); // sent after the replayed items, on the same socket
        Assert.Equal(
            [("user", "Hello there")],
            second.EventsOf("conversation.item.create").Select(e => ((string)e["item"]!["role"]!, (string)e["item"]!["content"]![0]!["text"]!)));
    }

    [Fact]
    public async Task Reconnecting_stops_after_the_bounded_attempts_spaced_by_a_doubling_delay_and_raises_a_clear_error()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-03-01T09:00:00Z", CultureInfo.InvariantCulture));
        await using var voxon = new TestVoxon(time: time, configure: o => o.Realtime = ServerOptions(maxReconnectAttempts: 3, delay: TimeSpan.FromSeconds(1)));
        var session = await voxon.CreateSessionAsync();
        await using var voice = await session.StartVoiceConversationAsync();
        var connection = await _server.AcceptAsync();
        await connection.WaitForAsync("session.update");
        await connection.UserSaysAsync("My name is Alice");
        await Eventually(() => voice.Transcript.Count == 1);

        var attemptsAt = new List<DateTimeOffset>();
        _server.ConnectionRefused += () =>
        {
            lock (attemptsAt)
            {
                attemptsAt.Add(time.GetUtcNow());
            }
        };
        _server.RefuseConnections = true;
        var dropped = time.GetUtcNow();
        connection.Drop();

        // The attempts wait 1 s, then 2 s, then 4 s on the session's clock (a delay starts once the attempt before has failed).
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!voice.Completion.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
            time.Advance(TimeSpan.FromMilliseconds(250));
        }

        var error = await Assert.ThrowsAsync<RealtimeConnectionException>(() => voice.Completion);
        Assert.Contains("could not be opened again", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, _server.RefusedConnections);
        Assert.Equal(3, attemptsAt.Count);
        Assert.True(attemptsAt[0] - dropped >= TimeSpan.FromSeconds(1), $"first attempt after {attemptsAt[0] - dropped}");
        Assert.True(attemptsAt[1] - attemptsAt[0] >= TimeSpan.FromSeconds(2), $"second attempt after {attemptsAt[1] - attemptsAt[0]}");
        Assert.True(attemptsAt[2] - attemptsAt[1] >= TimeSpan.FromSeconds(4), $"third attempt after {attemptsAt[2] - attemptsAt[1]}");
        Assert.Equal("My name is Alice", Assert.Single(voice.Transcript).Content);
        await Assert.ThrowsAsync<RealtimeConnectionException>(() => voice.SendAudioAsync(new byte[480]));
    }

    [Fact]
    public async Task Functions_are_offered_and_a_failing_one_answers_the_model_with_its_error()
    {
        var session = await _voxon.CreateSessionAsync(new SessionConfig { EnableFunctions = true });
        var options = new VoiceConversationOptions();
        options.Tools.Add(AIFunctionFactory.Create((string city) => $"Sunny in {city}", "get_weather", "Weather of a city"));
        options.Tools.Add(AIFunctionFactory.Create(string () => throw new InvalidOperationException("calendar offline"), "read_calendar", "The user's calendar"));
        await using var voice = await session.StartVoiceConversationAsync(options);
        var connection = await _server.AcceptAsync();
        var update = await connection.WaitForAsync("session.update");
        var tools = update["session"]!["tools"]!.AsArray();
        Assert.Equal(["get_weather", "read_calendar", MemoryTools.Remember, MemoryTools.Recall, MemoryTools.Forget], tools.Select(t => (string?)t!["name"]));
        Assert.All(tools, t => Assert.Equal("function", (string?)t!["type"]));
        Assert.NotNull(tools[0]!["parameters"]!["properties"]!["city"]);

        var weather = await connection.CallFunctionAsync("get_weather", """{"city":"Paris"}""");
        var output = await connection.WaitForAsync("conversation.item.create");
        Assert.Equal(weather, (string?)output["item"]!["call_id"]);
        Assert.Contains("Sunny in Paris", (string)output["item"]!["output"]!, StringComparison.Ordinal);
        await connection.WaitForAsync("response.create");

        await connection.CallFunctionAsync("read_calendar", "{}");
        var failed = await connection.WaitForAsync("conversation.item.create", 2);
        Assert.Contains("calendar offline", (string)failed["item"]!["output"]!, StringComparison.Ordinal);
        await connection.WaitForAsync("response.create", 2);
        Assert.False(voice.Completion.IsCompleted);                 // the conversation goes on

        // The built-in memory tool stores into this session; the calls appear with the next reply in the transcript.
        await connection.CallFunctionAsync(MemoryTools.Remember, """{"content":"User's favourite city is Paris"}""");
        await connection.WaitForAsync("conversation.item.create", 3);
        var reply = await connection.ReplyAsync("It is sunny in Paris.", TimeSpan.FromMilliseconds(200));
        await ReadAudioAsync(voice, TimeSpan.FromMilliseconds(200));
        voice.ReportPlayback(reply, TimeSpan.FromMilliseconds(200));
        await Eventually(() => voice.Transcript.Count == 1);
        var calls = voice.Transcript[0].ToolCalls!;
        Assert.Equal(["get_weather", "read_calendar", MemoryTools.Remember], calls.Select(c => c.Name));
        Assert.Equal([false, true, false], calls.Select(c => c.Failed));
        Assert.Contains(session.GetMemory().Entries, m => m.Content == "User's favourite city is Paris");
    }

    [Fact]
    public async Task A_function_that_times_out_answers_the_model_with_its_error_and_the_conversation_goes_on()
    {
        var session = await _voxon.CreateSessionAsync(new SessionConfig { EnableFunctions = true });
        var options = new VoiceConversationOptions();
        // What an HTTP call inside a function throws when its client's timeout elapses.
        options.Tools.Add(AIFunctionFactory.Create(
            string () => throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing."),
            "track_parcel",
            "Where the user's parcel is"));
        await using var voice = await session.StartVoiceConversationAsync(options);
        var connection = await _server.AcceptAsync();
        await connection.WaitForAsync("session.update");

        var call = await connection.CallFunctionAsync("track_parcel", "{}");
        var output = await connection.WaitForAsync("conversation.item.create");

        Assert.Equal(call, (string?)output["item"]!["call_id"]);
        Assert.Contains("HttpClient.Timeout", (string)output["item"]!["output"]!, StringComparison.Ordinal);
        await connection.WaitForAsync("response.create");
        Assert.False(voice.Completion.IsCompleted);
        var reply = await connection.ReplyAsync("Sorry, parcel tracking is not answering.", TimeSpan.FromMilliseconds(200));
        await ReadAudioAsync(voice, TimeSpan.FromMilliseconds(200));
        voice.ReportPlayback(reply, TimeSpan.FromMilliseconds(200));
        await Eventually(() => voice.Transcript.Count == 1);
        Assert.Equal(("track_parcel", true), (voice.Transcript[0].ToolCalls![0].Name, voice.Transcript[0].ToolCalls![0].Failed));
    }

    [Theory]
    [InlineData("\"call_id\":\"\",")]
    [InlineData("\"call_id\":null,")]
    [InlineData("")]
    public async Task A_function_call_without_a_call_id_is_reported_failed_and_the_conversation_goes_on(string callId)
    {
        var session = await _voxon.CreateSessionAsync(new SessionConfig { EnableFunctions = true });
        var options = new VoiceConversationOptions();
        var ran = 0;
        options.Tools.Add(AIFunctionFactory.Create((string city) => { Interlocked.Increment(ref ran); return $"Sunny in {city}"; }, "get_weather", "Weather of a city"));
        await using var voice = await session.StartVoiceConversationAsync(options);
        var connection = await _server.AcceptAsync();
        await connection.WaitForAsync("session.update");

        var item = $$"""{"id":"item_fc_nocall","type":"function_call","status":"completed",{{callId}}"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}""";
        await connection.SendRawAsync("""{"type":"response.created","event_id":"evt_nc1","response":{"id":"resp_nc","status":"in_progress","output":[]}}""");
        await connection.SendRawAsync($$$"""{"type":"response.output_item.done","event_id":"evt_nc2","response_id":"resp_nc","output_index":0,"item":{{{item}}}}""");
        await connection.SendRawAsync($$$"""{"type":"response.done","event_id":"evt_nc3","response":{"id":"resp_nc","status":"completed","output":[{{{item}}}]}}""");

        // The conversation goes on: the next exchange is heard and recorded, with the call that could not be answered.
        await connection.UserSaysAsync("Is it sunny?");
        var reply = await connection.ReplyAsync("I could not check the weather.", TimeSpan.FromMilliseconds(200));
        await ReadAudioAsync(voice, TimeSpan.FromMilliseconds(200));
        voice.ReportPlayback(reply, TimeSpan.FromMilliseconds(200));
        await Eventually(() => voice.Transcript.Count == 2);
        Assert.False(voice.Completion.IsCompleted);
        var call = Assert.Single(voice.Transcript[1].ToolCalls!);
        Assert.Equal(("get_weather", true), (call.Name, call.Failed));
        Assert.Contains("call_id", call.Result, StringComparison.Ordinal);
        Assert.Equal(0, ran);                                       // its answer could not reach the model
        Assert.Empty(connection.EventsOf("conversation.item.create"));
        Assert.Empty(connection.EventsOf("response.create"));
    }

    [Fact]
    public async Task Speech_over_a_reply_is_acted_on_at_once_while_a_slow_function_runs()
    {
        var session = await _voxon.CreateSessionAsync(new SessionConfig { EnableFunctions = true });
        var options = new VoiceConversationOptions();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        options.Tools.Add(AIFunctionFactory.Create(
            async (string city, CancellationToken cancellationToken) =>
            {
                running.SetResult();
                await release.Task.WaitAsync(cancellationToken);
                return $"Sunny in {city}";
            },
            "get_weather",
            "Weather of a city"));
        await using var voice = await session.StartVoiceConversationAsync(options);
        var connection = await _server.AcceptAsync();
        await connection.WaitForAsync("session.update");
        await connection.UserSaysAsync("What is the weather in Paris?");
        await Eventually(() => voice.Transcript.Count == 1);

        var item = await connection.ReplyAsync("Let me check the weather in Paris for you.", TimeSpan.FromSeconds(4));
        await ReadAudioAsync(voice, TimeSpan.FromSeconds(4));
        voice.ReportPlayback(item, TimeSpan.FromSeconds(1));
        var call = await connection.CallFunctionAsync("get_weather", """{"city":"Paris"}""");
        await running.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await connection.SpeechStartsAsync();

        // Cut to what was played while the function still runs.
        var truncate = await connection.WaitForAsync("conversation.item.truncate", timeout: TimeSpan.FromSeconds(5));
        Assert.Equal(item, (string?)truncate["item_id"]);
        Assert.Equal(1000, (int?)truncate["audio_end_ms"]);
        await Eventually(() => voice.Transcript.Count == 2);
        Assert.True(voice.Transcript[1].Interrupted);
        Assert.Equal("Let me", voice.Transcript[1].Content);        // a quarter of the audio: 2 of the 9 words
        Assert.Empty(connection.EventsOf("conversation.item.create"));

        // The function's answer still reaches the model when it comes.
        release.SetResult();
        var output = await connection.WaitForAsync("conversation.item.create");
        Assert.Equal(call, (string?)output["item"]!["call_id"]);
        Assert.Contains("Sunny in Paris", (string)output["item"]!["output"]!, StringComparison.Ordinal);
        await connection.WaitForAsync("response.create");
        Assert.False(voice.Completion.IsCompleted);
    }

    [Fact]
    public async Task A_function_of_a_dropped_session_answering_last_does_not_hold_back_the_new_sessions_reply()
    {
        var session = await _voxon.CreateSessionAsync(new SessionConfig { EnableFunctions = true });
        var options = new VoiceConversationOptions { Realtime = ServerOptions(maxReconnectAttempts: 3) };
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        options.Tools.Add(AIFunctionFactory.Create(
            async (CancellationToken cancellationToken) =>
            {
                running.SetResult();
                await release.Task.WaitAsync(cancellationToken);
                return "arrived";
            },
            "track_parcel",
            "Where the user's parcel is"));
        options.Tools.Add(AIFunctionFactory.Create((string city) => $"Sunny in {city}", "get_weather", "Weather of a city"));
        await using var voice = await session.StartVoiceConversationAsync(options);
        var first = await _server.AcceptAsync();
        await first.WaitForAsync("session.update");
        await first.CallFunctionAsync("track_parcel", "{}");
        await running.Task.WaitAsync(TimeSpan.FromSeconds(20));
        first.Drop();

        // The new session's call is answered while the old one's still runs; the old one's answer comes last.
        var second = await _server.AcceptAsync();
        await second.WaitForAsync("session.update");
        await second.CallFunctionAsync("get_weather", """{"city":"Paris"}""");
        await second.WaitForAsync("conversation.item.create");
        release.SetResult();

        await second.WaitForAsync("response.create", timeout: TimeSpan.FromSeconds(5));
        Assert.Single(second.EventsOf("conversation.item.create"));  // the old session's call is not answered here
    }

    [Fact]
    public async Task Ending_the_conversation_stops_a_function_still_running()
    {
        var session = await _voxon.CreateSessionAsync(new SessionConfig { EnableFunctions = true });
        var options = new VoiceConversationOptions();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        options.Tools.Add(AIFunctionFactory.Create(
            async (CancellationToken cancellationToken) =>
            {
                running.SetResult();
                using var registration = cancellationToken.Register(stopped.SetResult);
                await Task.Delay(Timeout.Infinite, cancellationToken);
                return "never";
            },
            "wait_for_delivery",
            "Waits until the parcel arrives"));
        var voice = await session.StartVoiceConversationAsync(options);
        var connection = await _server.AcceptAsync();
        await connection.WaitForAsync("session.update");
        await connection.UserSaysAsync("Tell me when my parcel arrives");
        await Eventually(() => voice.Transcript.Count == 1);
        await connection.CallFunctionAsync("wait_for_delivery", "{}");
        await running.Task.WaitAsync(TimeSpan.FromSeconds(20));

        await voice.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(stopped.Task.IsCompleted);
        Assert.True(voice.Completion.IsCompletedSuccessfully);
        Assert.Equal("Tell me when my parcel arrives", Assert.Single(voice.Transcript).Content);
        Assert.Empty(connection.EventsOf("conversation.item.create"));
    }

    [Fact]
    public async Task Missing_endpoint_fails_with_a_configuration_error_naming_the_variables()
    {
        await using var offline = new TestVoxon();
        var session = await offline.CreateSessionAsync();
        var error = await Assert.ThrowsAsync<VoxonConfigurationException>(() => session.StartVoiceConversationAsync());
        Assert.Contains(RealtimeOptions.EndpointVariable, error.Message, StringComparison.Ordinal);
        Assert.Empty(session.Conversations);
    }

    [Fact]
    public async Task Unreachable_endpoint_raises_a_connection_error_and_leaves_no_open_conversation()
    {
        var session = await _voxon.CreateSessionAsync();
        var options = new VoiceConversationOptions { Realtime = new RealtimeOptions { Endpoint = new Uri("http://127.0.0.1:9/v1") } };
        var error = await Assert.ThrowsAsync<RealtimeConnectionException>(() => session.StartVoiceConversationAsync(options));
        Assert.Contains("127.0.0.1:9", error.Message, StringComparison.Ordinal);
        Assert.All(session.Conversations, c => Assert.NotNull(c.EndedAt));
    }

    [Theory]
    [InlineData(null, 1.0)]
    [InlineData(150.0, 1.0)]
    [InlineData(90.0, 0.75)]
    [InlineData(400.0, 1.25)]
    public void Speed_follows_the_speaking_pace_within_a_natural_range(double? pace, double speed) =>
        Assert.Equal(speed, RealtimeSetup.SpeedFor(pace));

    private RealtimeOptions ServerOptions(int maxReconnectAttempts, TimeSpan? delay = null) => new()
    {
        Endpoint = _server.Endpoint,
        ApiKey = "test-key",
        MaxReconnectAttempts = maxReconnectAttempts,
        ReconnectDelay = delay ?? TimeSpan.FromMilliseconds(10),
    };

    /// <summary>A voice conversation that does not reconnect, after the user said "My name is Alice" and heard the whole
    /// "Hello Alice." (300 ms of audio).</summary>
    private async Task<(VoiceConversation Voice, LoopbackRealtimeServer.RealtimeConnection Connection)> GreetedWithoutReconnectingAsync(Session session)
    {
        var voice = await session.StartVoiceConversationAsync(new VoiceConversationOptions { Realtime = ServerOptions(maxReconnectAttempts: 0) });
        var connection = await _server.AcceptAsync();
        await connection.WaitForAsync("session.update");
        await connection.UserSaysAsync("My name is Alice");
        await Eventually(() => voice.Transcript.Count == 1);
        var hello = await connection.ReplyAsync("Hello Alice.", TimeSpan.FromMilliseconds(300));
        await ReadAudioAsync(voice, TimeSpan.FromMilliseconds(300));
        voice.ReportPlayback(hello, TimeSpan.FromMilliseconds(300));
        return (voice, connection);
    }

    private static async Task ReadAudioAsync(VoiceConversation voice, TimeSpan total)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        long bytes = 0;
        await foreach (var chunk in voice.ReadAudioAsync(timeout.Token))
        {
            bytes += chunk.Pcm16.Length;
            if (bytes >= RealtimeAudio.Bytes(total))
            {
                return;
            }
        }
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(10);
        }
    }

    /// <summary>The session's realtime turns, with a bug planted: preparing the given words throws.</summary>
    private sealed class FailingSink(IRealtimeTurnSink inner, string failOnWords) : IRealtimeTurnSink
    {
        public PreparedUserTurn PrepareUserTurn(string words, TimeSpan? audio) =>
            words == failOnWords ? throw new KeyNotFoundException("planted bug") : inner.PrepareUserTurn(words, audio);

        public Task RecordReplyAsync(RealtimeReply reply, CancellationToken cancellationToken) => inner.RecordReplyAsync(reply, cancellationToken);

        public IReadOnlyList<ChatMessage> Dialogue() => inner.Dialogue();
    }
}
