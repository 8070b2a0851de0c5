using System.Text.Json;
using Microsoft.Extensions.AI;
using Voxon.Conversations;
using Voxon.Events;
using Voxon.Engine;
using Voxon.Sessions;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Engine;

/// <summary>Voxon against a real HTTP server speaking OpenAI Chat Completions on 127.0.0.1.</summary>
public class LoopbackChatCompletionsTests
{
    private static SessionConfig Config => new() { Instructions = "You are a loopback test assistant", Temperature = 0.3, MaxOutputTokens = 77 };

    [Fact]
    public async Task Model_options_send_the_whole_turn_and_return_the_servers_reply()
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = new TestVoxon(configure: o => o.Model = new ModelOptions { Endpoint = server.Endpoint, Model = "test-model", ApiKey = "k" });

        await AssertRoundTripAsync(server, voxon, "k");
    }

    [Fact]
    public async Task Environment_variables_configure_the_same_endpoint()
    {
        await using var server = LoopbackChatServer.Start();
        string?[] saved = [.. Variables.Select(Environment.GetEnvironmentVariable)];
        try
        {
            Environment.SetEnvironmentVariable(ModelOptions.EndpointVariable, server.Endpoint.ToString());
            Environment.SetEnvironmentVariable(ModelOptions.ModelVariable, "test-model");
            Environment.SetEnvironmentVariable(ModelOptions.ApiKeyVariable, "env-key");
            await using var voxon = new TestVoxon(configure: o => o.UseEnvironment = true);

            Assert.IsNotType<OfflineChatClient>(voxon.Client.ChatClient);
            await AssertRoundTripAsync(server, voxon, "env-key");
        }
        finally
        {
            for (var i = 0; i < Variables.Length; i++)
            {
                Environment.SetEnvironmentVariable(Variables[i], saved[i]);
            }
        }
    }

    [Fact]
    public async Task Server_error_gives_EngineException_and_the_turn_is_not_recorded()
    {
        await using var server = LoopbackChatServer.Start();
        server.Status = 500;
        await using var voxon = new TestVoxon(configure: o => o.Model = new ModelOptions { Endpoint = server.Endpoint, Model = "test-model", ApiKey = "k" });
        var session = await voxon.CreateSessionAsync(Config);
        var conversation = await session.StartConversationAsync();

        await Assert.ThrowsAsync<EngineException>(() => conversation.SendMessageAsync("My name is Alice"));

        Assert.NotEmpty(server.Requests);
        Assert.Empty(conversation.Transcript);
        Assert.Empty(session.GetMemory().Entries);
    }

    [Fact]
    public async Task Server_listens_on_loopback_only_and_stops_on_dispose()
    {
        var server = LoopbackChatServer.Start();
        var port = server.Port;

        Assert.All(server.Prefixes, p => Assert.StartsWith("http://127.0.0.1:", p, StringComparison.Ordinal));
        await server.DisposeAsync();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(new Uri($"http://127.0.0.1:{port}/v1/chat/completions")));
    }

    [Fact]
    public async Task Streamed_turn_arrives_as_server_sent_events_and_is_recorded_once_at_the_end()
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = LoopbackVoxon(server);
        var session = await voxon.CreateSessionAsync(Config);
        var conversation = await session.StartConversationAsync();
        server.Reply = "Streaming from the loopback server works.";

        var chunks = new List<string>();
        await foreach (var chunk in conversation.StreamMessageAsync("Hello there"))
        {
            chunks.Add(chunk);
            Assert.Empty(conversation.Transcript);
        }

        Assert.Equal(6, chunks.Count); // one per word
        Assert.True(server.Requests[^1].Json.GetProperty("stream").GetBoolean());
        Assert.Equal(["Hello there", "Streaming from the loopback server works."], conversation.Transcript.Select(t => t.Content));
        Assert.NotNull(conversation.Transcript[1].TimeToFirstTokenMs);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Tool_call_round_trip_invokes_the_function_sends_its_result_and_records_the_final_answer(bool stream)
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = LoopbackVoxon(server);
        var session = await voxon.CreateSessionAsync(SessionPresets.TaskOriented);
        session.EnableDebug();
        var cities = new List<string>();
        session.AddTool(AIFunctionFactory.Create((string city) => { cities.Add(city); return $"Sunny and 21C in {city}"; }, "get_weather", "Weather in a city"));
        var calls = new List<ToolCall>();
        session.Events.On(SessionEventNames.MessageToolCall, e => calls.Add((ToolCall)e.Data!));
        var conversation = await session.StartConversationAsync();
        server.EnqueueToolCall("get_weather", """{"city":"Lisbon"}""");
        server.Reply = "It is sunny in Lisbon.";

        var reply = await SayAsync(conversation, "What's the weather in Lisbon?", stream);

        Assert.Equal("It is sunny in Lisbon.", reply);
        Assert.Equal(["Lisbon"], cities);
        Assert.Equal(2, server.Requests.Count);
        var offered = server.Requests[0].Json.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("function").GetProperty("name").GetString()).ToList();
        Assert.Equal(["get_weather", "remember", "recall", "forget"], offered);
        var toolMessage = server.Requests[1].Json.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "tool");
        Assert.Equal("call_1", toolMessage.GetProperty("tool_call_id").GetString());
        Assert.Contains("Sunny and 21C in Lisbon", TextOf(toolMessage), StringComparison.Ordinal);
        var assistant = conversation.Transcript[^1];
        Assert.Equal("It is sunny in Lisbon.", assistant.Content);
        var call = Assert.Single(assistant.ToolCalls!);
        Assert.Equal(("get_weather", false), (call.Name, call.Failed));
        Assert.Contains("Lisbon", call.Arguments, StringComparison.Ordinal);
        Assert.Contains("Sunny and 21C", call.Result, StringComparison.Ordinal);
        Assert.Equal([call], calls);
        Assert.Contains(session.GetDebugInfo().Events, e => e.Type == SessionEventNames.MessageToolCall);
    }

    [Fact]
    public async Task A_throwing_tool_or_bad_arguments_report_an_error_to_the_model_and_the_turn_completes()
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = LoopbackVoxon(server);
        var session = await voxon.CreateSessionAsync(SessionPresets.TaskOriented);
        session.AddTool(AIFunctionFactory.Create(string (string id) => throw new InvalidOperationException("booking system down"), "book", "Books an appointment"));
        var conversation = await session.StartConversationAsync();
        server.EnqueueToolCall("book", """{"id":"A1"}""");
        server.EnqueueToolCall("book", """{"unexpected": 3}""");
        server.Reply = "Sorry, I could not book that.";

        var reply = await conversation.SendMessageAsync("Book A1 please");

        Assert.Equal("Sorry, I could not book that.", reply);
        var results = server.Requests[^1].Json.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("role").GetString() == "tool").Select(TextOf).ToList();
        Assert.Equal(2, results.Count);
        Assert.Contains("booking system down", results[0], StringComparison.Ordinal);
        Assert.Contains("id", results[1], StringComparison.Ordinal); // the missing argument is named
        Assert.All(conversation.Transcript[^1].ToolCalls!, c => Assert.True(c.Failed));
        Assert.Equal(0, session.GetDebugInfo().ErrorCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Arguments_that_are_not_valid_JSON_are_reported_as_such_and_recorded_as_sent(bool stream)
    {
        const string Broken = "{\"city\": \"Lisbon\"";
        await using var server = LoopbackChatServer.Start();
        server.EnqueueToolCall("get_weather", Broken);
        server.EnqueueToolCall("get_weather", """{"city":"Lisbon"}""");
        server.Reply = "It is sunny in Lisbon.";
        await using var voxon = LoopbackVoxon(server);
        var cities = new List<string>();
        var conversation = await WeatherConversationAsync(voxon, city => { cities.Add(city); return $"Sunny in {city}"; });

        Assert.Equal("It is sunny in Lisbon.", await SayAsync(conversation, "What's the weather in Lisbon?", stream));

        var results = server.Requests[^1].Json.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("role").GetString() == "tool").Select(TextOf).ToList();
        Assert.Contains("not valid JSON", results[0], StringComparison.Ordinal);   // the model can send them again
        Assert.DoesNotContain("missing", results[0], StringComparison.OrdinalIgnoreCase);
        Assert.Equal(["Lisbon"], cities);
        var calls = conversation.Transcript[^1].ToolCalls!;
        Assert.Equal([("get_weather", true), ("get_weather", false)], calls.Select(c => (c.Name, c.Failed)));
        Assert.Equal(Broken, calls[0].Arguments);
        Assert.Contains("not valid JSON", calls[0].Result, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_function_that_keeps_failing_stops_the_turn_with_an_error_naming_it(bool stream)
    {
        await using var server = LoopbackChatServer.Start();
        for (var i = 0; i < 10; i++)
        {
            server.EnqueueToolCall("get_weather", """{"city":"Lisbon"}""");
        }
        await using var voxon = LoopbackVoxon(server);
        var conversation = await WeatherConversationAsync(voxon, _ => throw new InvalidOperationException("weather service down"));

        var error = await Assert.ThrowsAsync<EngineException>(() => SayAsync(conversation, "What's the weather in Lisbon?", stream));

        // Each failure but the last was told to the model, which tried again; the last stopped the turn.
        var rounds = server.Requests.Count;
        var told = server.Requests[^1].Json.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("role").GetString() == "tool").Select(TextOf).ToList();
        Assert.True(rounds > 1, $"the model tried again after a failure ({rounds} requests)");
        Assert.Equal(rounds - 1, told.Count);
        Assert.All(told, t => Assert.Contains("weather service down", t, StringComparison.Ordinal));
        Assert.DoesNotContain("did not answer", error.Message, StringComparison.Ordinal);
        Assert.Contains($"failed {rounds} rounds in a row", error.Message, StringComparison.Ordinal);
        Assert.Contains("'get_weather' failed: weather service down", error.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.Empty(conversation.Transcript);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_call_to_a_function_that_does_not_exist_is_recorded_as_failed(bool stream)
    {
        await using var server = LoopbackChatServer.Start();
        server.EnqueueToolCall("get_forecast", """{"city":"Lisbon"}""");
        server.EnqueueToolCall("get_weather", """{"city":"Lisbon"}""");
        await using var voxon = LoopbackVoxon(server);
        var conversation = await WeatherConversationAsync(voxon, city => $"Sunny in {city}");
        server.Reply = "It is sunny in Lisbon.";

        await SayAsync(conversation, "What's the weather in Lisbon?", stream);

        var results = server.Requests[^1].Json.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("role").GetString() == "tool").Select(TextOf).ToList();
        Assert.Contains("get_forecast", results[0], StringComparison.Ordinal);   // the model was told it does not exist
        Assert.Equal(
            [("get_forecast", true), ("get_weather", false)],
            conversation.Transcript[^1].ToolCalls!.Select(c => (c.Name, c.Failed)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_model_that_keeps_calling_functions_is_stopped_with_an_error_saying_so(bool stream)
    {
        var calls = 0;
        await using var server = LoopbackChatServer.Start();
        await using var voxon = LoopbackVoxon(server);
        var conversation = await WeatherConversationAsync(voxon, city => { Interlocked.Increment(ref calls); return $"Sunny in {city}"; });
        var rounds = voxon.Client.Runtime.Engine.MaxToolRounds;
        for (var i = 0; i <= rounds; i++)
        {
            server.EnqueueToolCall("get_weather", """{"city":"Lisbon"}""");
        }

        var error = await Assert.ThrowsAsync<EngineException>(() => SayAsync(conversation, "What's the weather in Lisbon?", stream));

        Assert.Equal(rounds, calls);
        Assert.Contains($"kept calling functions for {rounds} rounds", error.Message, StringComparison.Ordinal);
        Assert.Empty(conversation.Transcript);
        server.Reply = "It is sunny.";
        Assert.Equal("It is sunny.", await conversation.SendMessageAsync("Just tell me, please")); // the next turn is answered
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task A_turn_interrupted_while_a_function_runs_records_the_call_as_cut_off(bool stream, bool bargeIn)
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = LoopbackVoxon(server);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var conversation = await WeatherConversationAsync(voxon, async (city, token) =>
        {
            if (city == "Lisbon")
            {
                running.SetResult();
                await Task.Delay(Timeout.Infinite, token);
            }

            return $"Sunny in {city}";
        });
        server.EnqueueToolCall("get_weather", """{"city":"Porto"}""");
        server.EnqueueToolCall("get_weather", """{"city":"Lisbon"}""");
        using var cancel = new CancellationTokenSource();

        var turn = SayAsync(conversation, "What's the weather in Lisbon?", stream, cancel.Token);
        await running.Task.WaitAsync(TimeSpan.FromSeconds(30));
        if (bargeIn)
        {
            Assert.True(conversation.Interrupt(string.Empty));
        }
        else
        {
            await cancel.CancelAsync();
        }

        if (bargeIn)
        {
            Assert.Equal(string.Empty, await turn); // nothing of the reply was heard
        }
        else
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => turn);
        }

        Assert.Equal(["What's the weather in Lisbon?", string.Empty], conversation.Transcript.Select(t => t.Content));
        var assistant = conversation.Transcript[^1];
        Assert.True(assistant.Interrupted);
        Assert.Equal(2, assistant.ToolCalls!.Count);
        var (done, cut) = (assistant.ToolCalls[0], assistant.ToolCalls[1]);
        Assert.False(done.Failed);
        Assert.Contains("Sunny in Porto", done.Result, StringComparison.Ordinal);
        Assert.Equal(("get_weather", null, true), (cut.Name, cut.Result, cut.Failed));   // no result came back
        Assert.Contains("Lisbon", cut.Arguments, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Memory_tools_remember_and_recall_within_the_session_and_never_reveal_sensitive_memories()
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = LoopbackVoxon(server);
        var session = await voxon.CreateSessionAsync(new SessionConfig { EnableFunctions = true });
        await session.AddMemoryAsync("User's door code is 4471", "security", sensitive: true);
        var conversation = await session.StartConversationAsync();
        server.EnqueueToolCall("remember", """{"content":"User's dog is called Rex","category":"pets"}""");
        server.EnqueueToolCall("recall", """{"query":"door code"}""");
        server.Reply = "Done.";

        await conversation.SendMessageAsync("Remember that my dog is Rex, and what's my door code?");

        Assert.Contains(session.GetMemory().Entries, e => e is { Content: "User's dog is called Rex", Category: "pets" });
        var sent = string.Join("\n", server.Requests.Select(r => r.Body));
        Assert.DoesNotContain("4471", sent, StringComparison.Ordinal);
        Assert.Contains("[REDACTED]", conversation.Transcript[^1].ToolCalls![1].Result, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_EnableFunctions_no_tools_are_offered()
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = LoopbackVoxon(server);
        var session = await voxon.CreateSessionAsync(Config);
        session.AddTool(AIFunctionFactory.Create(() => "x", "noop"));
        var conversation = await session.StartConversationAsync();

        await conversation.SendMessageAsync("Hello there");

        Assert.False(server.Requests[^1].Json.TryGetProperty("tools", out _));
    }

    /// <summary>A conversation of a session with functions on and a <c>get_weather</c> function answered by <paramref name="weather"/>.</summary>
    private static Task<Conversation> WeatherConversationAsync(TestVoxon voxon, Func<string, string> weather) =>
        WeatherConversationAsync(voxon, (city, _) => Task.FromResult(weather(city)));

    /// <summary>As <see cref="WeatherConversationAsync(TestVoxon, Func{string, string})"/>, with a function that takes time.</summary>
    private static async Task<Conversation> WeatherConversationAsync(TestVoxon voxon, Func<string, CancellationToken, Task<string>> weather)
    {
        var session = await voxon.CreateSessionAsync(SessionPresets.TaskOriented);
        session.AddTool(AIFunctionFactory.Create((string city, CancellationToken cancellationToken) => weather(city, cancellationToken), "get_weather", "Weather in a city"));
        return await session.StartConversationAsync();
    }

    /// <summary>Voxon on the loopback server, without model memory extraction so the server sees only the turns.</summary>
    private static TestVoxon LoopbackVoxon(LoopbackChatServer server) => new(configure: o =>
    {
        o.Model = new ModelOptions { Endpoint = server.Endpoint, Model = "test-model", ApiKey = "k" };
        o.ModelMemoryExtraction = false;
    });

    private static async Task<string> SayAsync(Conversation conversation, string text, bool stream, CancellationToken cancellationToken = default)
    {
        if (!stream)
        {
            return await conversation.SendMessageAsync(text, cancellationToken: cancellationToken);
        }

        var reply = new System.Text.StringBuilder();
        await foreach (var chunk in conversation.StreamMessageAsync(text, cancellationToken: cancellationToken))
        {
            reply.Append(chunk);
        }

        return reply.ToString();
    }

    private static readonly string[] Variables = [ModelOptions.EndpointVariable, ModelOptions.ModelVariable, ModelOptions.ApiKeyVariable];

    private static async Task AssertRoundTripAsync(LoopbackChatServer server, TestVoxon voxon, string key)
    {
        var session = await voxon.CreateSessionAsync(Config);
        await session.AddMemoryAsync("User's favourite colour is teal", "preference", 0.9);
        var conversation = await session.StartConversationAsync();
        server.Reply = "First answer";
        await conversation.SendMessageAsync("Hello there");
        server.Reply = "Teal, from loopback";

        var reply = await conversation.SendMessageAsync("What is my favourite colour?");

        Assert.Equal("Teal, from loopback", reply);
        // With a model configured, each turn is followed by a memory-extraction call asking for JSON.
        var turns = server.Requests.Where(r => !r.Json.TryGetProperty("response_format", out _)).ToList();
        var extractions = server.Requests.Where(r => r.Json.TryGetProperty("response_format", out _)).ToList();
        Assert.Equal(2, turns.Count);
        Assert.Equal(2, extractions.Count);
        Assert.Equal("json_object", extractions[^1].Json.GetProperty("response_format").GetProperty("type").GetString());
        var request = turns[^1];
        Assert.Equal(("POST", "/v1/chat/completions"), (request.Method, request.Path));
        Assert.Equal($"Bearer {key}", request.Authorization);
        var json = request.Json;
        Assert.Equal("test-model", json.GetProperty("model").GetString());
        Assert.Equal(0.3, json.GetProperty("temperature").GetDouble(), 3);
        var maxTokens = json.TryGetProperty("max_completion_tokens", out var mct) ? mct : json.GetProperty("max_tokens");
        Assert.Equal(77, maxTokens.GetInt32());
        var messages = json.GetProperty("messages").EnumerateArray().Select(m => (Role: m.GetProperty("role").GetString(), Text: TextOf(m))).ToList();
        Assert.Equal(("system", "You are a loopback test assistant"), messages[0]);
        Assert.Contains(messages, m => m.Role == "system" && m.Text.Contains("User's favourite colour is teal", StringComparison.Ordinal));
        Assert.Equal(
            [("user", "Hello there"), ("assistant", "First answer"), ("user", "What is my favourite colour?")],
            messages.Where(m => m.Role != "system"));
        Assert.Equal("Teal, from loopback", conversation.Transcript[^1].Content);
    }

    /// <summary>Content is a string or an array of text parts, depending on the client version.</summary>
    private static string TextOf(JsonElement message)
    {
        var content = message.GetProperty("content");
        return content.ValueKind == JsonValueKind.String
            ? content.GetString()!
            : string.Concat(content.EnumerateArray().Select(p => p.GetProperty("text").GetString()));
    }
}
