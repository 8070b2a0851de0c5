using System.Net.Http.Json;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Voxon.Server.Tests.Support;

namespace Voxon.Server.Tests.Mcp;

/// <summary>The memory tools through the MCP SDK's own client: over streamable HTTP at /mcp (scoped by the key's
/// tenant) and over stdio from <c>voxon mcp --session ID</c> (scoped to that session).</summary>
public sealed class McpToolTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static readonly string[] ToolNames = ["memory_add", "memory_forget", "memory_search", "session_summary"];

    private ServerInstance Server => fixture.Server;

    private Task<McpClient> HttpClientAsync(string key) =>
        McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(Server.BaseAddress, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {key}" },
        }));

    /// <summary><c>voxon mcp --session ID</c> on the server's store, with no model configured.</summary>
    private Task<McpClient> StdioClientAsync(string sessionId, Action<string>? errorLines = null) =>
        McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = "dotnet",
            Arguments = [ServerInstance.CliPath(), "mcp", "--session", sessionId, "--store", Server.Store],
            Name = "voxon",
            EnvironmentVariables = new Dictionary<string, string?> { ["VOXON_MODEL_ENDPOINT"] = null },
            StandardErrorLines = errorLines,
        }));

    private static string Text(CallToolResult result) => string.Concat(result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    [Fact]
    public async Task Http_lists_and_calls_each_tool_within_the_tenant()
    {
        var id = await Server.CreateSessionAsync(user: "mcp_user");
        var cid = await Server.StartConversationAsync(id);
        await Server.SendAsync(id, cid, "I'm interested in sailing");
        await using var client = await HttpClientAsync(Server.KeyA);

        var tools = await client.ListToolsAsync();
        Assert.Equal(ToolNames, tools.Select(t => t.Name).Order());

        var added = await client.CallToolAsync("memory_add", new Dictionary<string, object?> { ["content"] = "Keeps a boat in Kiel harbour", ["category"] = "hobby", ["session_id"] = id });
        Assert.NotEqual(true, added.IsError);
        var memoryId = JsonDocument.Parse(Text(added)).RootElement.GetProperty("id").GetString()!;

        var found = await client.CallToolAsync("memory_search", new Dictionary<string, object?> { ["query"] = "where is the boat", ["session_id"] = id });
        var hits = JsonDocument.Parse(Text(found)).RootElement;
        Assert.Equal(memoryId, hits[0].GetProperty("id").GetString());

        var summary = JsonDocument.Parse(Text(await client.CallToolAsync("session_summary", new Dictionary<string, object?> { ["session_id"] = id }))).RootElement;
        Assert.Equal(2, summary.GetProperty("messages").GetInt32());
        Assert.Contains("Kiel", summary.GetProperty("top_memories").GetRawText());

        var forgot = await client.CallToolAsync("memory_forget", new Dictionary<string, object?> { ["memory_id"] = memoryId, ["session_id"] = id });
        Assert.NotEqual(true, forgot.IsError);
        Assert.DoesNotContain("Kiel", await Server.Client(Server.KeyA).GetStringAsync($"/v1/sessions/{id}/memory"));
    }

    [Fact]
    public async Task Http_refuses_another_tenants_session_and_needs_a_key()
    {
        var id = await Server.CreateSessionAsync(user: "private_user");
        await Server.Client(Server.KeyA).PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "Tenant A secret" });
        await using var client = await HttpClientAsync(Server.KeyB);
        foreach (var (tool, args) in new (string, Dictionary<string, object?>)[]
        {
            ("memory_search", new() { ["query"] = "secret", ["session_id"] = id }),
            ("memory_add", new() { ["content"] = "planted", ["session_id"] = id }),
            ("session_summary", new() { ["session_id"] = id }),
        })
        {
            var result = await client.CallToolAsync(tool, args);
            Assert.True(result.IsError, tool);
            Assert.Contains("not found", Text(result));
            Assert.DoesNotContain("secret", Text(result), StringComparison.OrdinalIgnoreCase);
        }

        Assert.DoesNotContain("planted", await Server.Client(Server.KeyA).GetStringAsync($"/v1/sessions/{id}/memory"));
        await Assert.ThrowsAnyAsync<Exception>(() => HttpClientAsync("vxk_wrong"));
    }

    [Fact]
    public async Task Http_storage_failure_is_a_tool_error_that_names_no_server_path()
    {
        var id = await Server.CreateSessionAsync(user: "mcp_storage");
        await using var client = await HttpClientAsync(Server.KeyA);
        Assert.NotEqual(true, (await client.CallToolAsync("memory_add", new Dictionary<string, object?> { ["content"] = "Stored fine", ["session_id"] = id })).IsError);

        // The session's journal cannot be written: a folder stands where the file goes.
        var journal = Path.Combine(Server.Store, id + ".journal");
        File.Delete(journal);
        Directory.CreateDirectory(journal);
        try
        {
            var failed = await client.CallToolAsync("memory_add", new Dictionary<string, object?> { ["content"] = "Not stored", ["session_id"] = id });
            Assert.True(failed.IsError);
            Assert.Equal("The session storage failed; try again.", Text(failed));
        }
        finally
        {
            Directory.Delete(journal);
        }
    }

    [Fact]
    public async Task Stdio_serves_one_session_and_refuses_another()
    {
        var id = await Server.CreateSessionAsync(user: "stdio_user");
        var other = await Server.CreateSessionAsync(user: "stdio_other");
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var client = await StdioClientAsync(id, errors.Enqueue);

        Assert.Equal(ToolNames, (await client.ListToolsAsync()).Select(t => t.Name).Order());
        var added = await client.CallToolAsync("memory_add", new Dictionary<string, object?> { ["content"] = "Prefers tea over coffee", ["category"] = "preference" });
        var memoryId = JsonDocument.Parse(Text(added)).RootElement.GetProperty("id").GetString()!;
        var hits = JsonDocument.Parse(Text(await client.CallToolAsync("memory_search", new Dictionary<string, object?> { ["query"] = "tea or coffee" }))).RootElement;
        Assert.Equal(memoryId, hits[0].GetProperty("id").GetString());
        var summary = JsonDocument.Parse(Text(await client.CallToolAsync("session_summary", new Dictionary<string, object?>()))).RootElement;
        Assert.Equal(id, summary.GetProperty("session_id").GetString());

        var refused = await client.CallToolAsync("memory_search", new Dictionary<string, object?> { ["query"] = "tea", ["session_id"] = other });
        Assert.True(refused.IsError);
        Assert.Contains("scoped to session", Text(refused));

        Assert.NotEqual(true, (await client.CallToolAsync("memory_forget", new Dictionary<string, object?> { ["memory_id"] = memoryId })).IsError);
        var missing = await client.CallToolAsync("memory_forget", new Dictionary<string, object?> { ["memory_id"] = memoryId });
        Assert.True(missing.IsError);
        var noQuery = await client.CallToolAsync("memory_search", new Dictionary<string, object?> { ["top_k"] = 3 });
        Assert.True(noQuery.IsError);
        Assert.Equal("'memory_search' needs query (see its input schema).", Text(noQuery));
        var blank = await client.CallToolAsync("memory_add", new Dictionary<string, object?> { ["content"] = " " });
        Assert.True(blank.IsError);
        Assert.Contains("content must not be empty", Text(blank), StringComparison.Ordinal);
        var mistyped = await client.CallToolAsync("memory_search", new Dictionary<string, object?> { ["query"] = 42, ["top_k"] = "three" });
        Assert.True(mistyped.IsError);
        Assert.Equal("'memory_search' needs query as a string and top_k as an integer (see its input schema).", Text(mistyped));
        var fractional = await client.CallToolAsync("memory_search", new Dictionary<string, object?> { ["query"] = "tea", ["top_k"] = 2.5 });
        Assert.Equal("'memory_search' needs top_k as an integer (see its input schema).", Text(fractional));
        var nullCategory = await client.CallToolAsync("memory_add", new Dictionary<string, object?> { ["content"] = "Likes rain", ["category"] = null, ["importance"] = "high" });
        Assert.Equal("'memory_add' needs category as a string and importance as a number (see its input schema).", Text(nullCategory));

        // The models were loaded in the background at startup (the warm-up's line is the one log line at information).
        for (var waited = 0; !errors.Any(l => l.Contains("Warmed up in", StringComparison.Ordinal)) && waited < 600; waited++)
        {
            await Task.Delay(50);
        }

        Assert.Contains(errors, l => l.Contains("Warmed up in", StringComparison.Ordinal));

        // What the stdio server saved is in storage: another process sees the add and the forget.
        await using var reader = await Server.StartAnotherAsync();
        Assert.DoesNotContain("tea over coffee", await reader.Client(Server.KeyA).GetStringAsync($"/v1/sessions/{id}/memory"));

        // The refused calls are tool errors for the model, not failures of the server: nothing logged as one, no stack trace.
        Assert.DoesNotContain(errors, l => l.Contains("fail:", StringComparison.Ordinal) || l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stdio_goes_on_serving_after_another_writer_saves_the_session()
    {
        var id = await Server.CreateSessionAsync(user: "stdio_shared");
        await using var client = await StdioClientAsync(id);
        Assert.NotEqual(true, (await client.CallToolAsync("memory_add", new Dictionary<string, object?> { ["content"] = "Prefers window seats" })).IsError);

        // Another server process saves the same session meanwhile: the stdio server's copy is stale.
        await using var writer = await Server.StartAnotherAsync();
        await writer.SendAsync(id, await writer.StartConversationAsync(id), "I'm flying to Oslo");
        var stale = await client.CallToolAsync("memory_add", new Dictionary<string, object?> { ["content"] = "Prefers aisle seats" });
        Assert.True(stale.IsError);
        Assert.Contains("another process saved", Text(stale), StringComparison.Ordinal);

        // The change was not stored and the stale copy is gone: the call again is applied to the stored session, once.
        var again = await client.CallToolAsync("memory_add", new Dictionary<string, object?> { ["content"] = "Prefers aisle seats" });
        Assert.True(again.IsError != true, Text(again));
        var summary = JsonDocument.Parse(Text(await client.CallToolAsync("session_summary", new Dictionary<string, object?>()))).RootElement;
        Assert.Equal(2, summary.GetProperty("messages").GetInt32());
        await using var reader = await Server.StartAnotherAsync();
        var stored = await reader.Client(Server.KeyA).GetStringAsync($"/v1/sessions/{id}/memory");
        Assert.Contains("window seats", stored, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(stored, "aisle seats"));
    }
}
