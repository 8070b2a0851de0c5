using System.Text.Json;
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
