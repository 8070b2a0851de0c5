using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Voxon.Server.Tests.Support;

namespace Voxon.Server.Tests.Api;

/// <summary>A key of tenant B reaches none of tenant A's sessions, shares or exports through any endpoint: each
/// answers 404 exactly as for an id that does not exist, and A's data is unchanged afterwards.</summary>
public sealed class TenantIsolationTests(TenantIsolationTests.Fixture fixture) : IClassFixture<TenantIsolationTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public ServerInstance Server { get; private set; } = null!;

        public string SessionId { get; private set; } = "";

        public string ConversationId { get; private set; } = "";

        public string MemoryId { get; private set; } = "";

        public string ShareId { get; private set; } = "";

        public string ShareToken { get; private set; } = "";

        public async Task InitializeAsync()
        {
            Server = await ServerInstance.StartAsync();
            var a = Server.Client(Server.KeyA);
            SessionId = await Server.CreateSessionAsync(user: "alice");
            ConversationId = await Server.StartConversationAsync(SessionId);
            await Server.SendAsync(SessionId, ConversationId, "My name is Alice");
            var memory = await (await a.PostAsJsonAsync($"/v1/sessions/{SessionId}/memory", new { content = "Secret plan: tenant A only" })).Content.ReadFromJsonAsync<JsonElement>();
            MemoryId = memory.GetProperty("id").GetString()!;
            var share = await (await a.PostAsJsonAsync($"/v1/sessions/{SessionId}/shares", new { shared_with = "bob" })).Content.ReadFromJsonAsync<JsonElement>();
            ShareId = share.GetProperty("share_id").GetString()!;
            ShareToken = share.GetProperty("token").GetString()!;
        }

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }

    public static TheoryData<string, string, string?> Endpoints => new()
    {
        { "GET", "/v1/sessions/{sid}", null },
        { "DELETE", "/v1/sessions/{sid}", null },
        { "POST", "/v1/sessions/{sid}/conversations", "{}" },
        { "GET", "/v1/sessions/{sid}/conversations", null },
        { "GET", "/v1/sessions/{sid}/conversations/{cid}", null },
        { "POST", "/v1/sessions/{sid}/conversations/{cid}/resume", null },
        { "POST", "/v1/sessions/{sid}/conversations/{cid}/end", null },
        { "POST", "/v1/sessions/{sid}/conversations/{cid}/messages", """{"text":"what is my name?"}""" },
        { "GET", "/v1/sessions/{sid}/memory", null },
        { "GET", "/v1/sessions/{sid}/memory?q=secret", null },
        { "POST", "/v1/sessions/{sid}/memory", """{"content":"planted by B"}""" },
        { "DELETE", "/v1/sessions/{sid}/memory/{mid}", null },
        { "GET", "/v1/sessions/{sid}/memory/export", null },
        { "GET", "/v1/sessions/{sid}/analytics", null },
        { "POST", "/v1/sessions/{sid}/metrics", """{"name":"m","value":1}""" },
        { "GET", "/v1/sessions/{sid}/preferences", null },
        { "PUT", "/v1/sessions/{sid}/preferences/formality", """{"value":"casual"}""" },
        { "POST", "/v1/sessions/{sid}/shares", """{"shared_with":"bob"}""" },
        { "GET", "/v1/sessions/{sid}/shares", null },
        { "DELETE", "/v1/sessions/{sid}/shares/{share}", null },
        { "GET", "/v1/sessions/{sid}/export", null },
        { "GET", "/v1/shared?user_id=bob", null },
        { "POST", "/v1/shared/notes?user_id=bob", """{"content":"note from B"}""" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Another_tenants_ids_are_not_found_and_leak_nothing(string method, string template, string? body)
    {
        var f = fixture;
        var path = template.Replace("{sid}", f.SessionId).Replace("{cid}", f.ConversationId).Replace("{mid}", f.MemoryId).Replace("{share}", f.ShareId);
        var response = await SendAsync(f.Server.Client(f.Server.KeyB), method, path, body, f.ShareToken);
        var text = await ProblemTests.AssertProblem(response, HttpStatusCode.NotFound);
        var raw = text.GetRawText();
        Assert.DoesNotContain("Secret plan", raw);
        Assert.DoesNotContain("alice", raw, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("tenant-a", raw);

        // The same request with an id that does not exist answers the same way: B learns nothing from the difference.
        var missing = template.Replace("{sid}", "sess_000000000000000000000000").Replace("{cid}", f.ConversationId).Replace("{mid}", f.MemoryId).Replace("{share}", f.ShareId);
        var control = await SendAsync(f.Server.Client(f.Server.KeyB), method, missing, body, "vxs_forged");
        Assert.Equal(HttpStatusCode.NotFound, control.StatusCode);
        var controlProblem = JsonDocument.Parse(await control.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(controlProblem.GetProperty("title").GetString(), text.GetProperty("title").GetString());

        await AssertTenantAUntouchedAsync();
    }

    [Fact]
    public async Task Listing_shows_only_the_callers_tenant()
    {
        var b = fixture.Server.Client(fixture.Server.KeyB);
        var bobSession = await fixture.Server.CreateSessionAsync(fixture.Server.KeyB, "alice");
        var all = await (await b.GetAsync("/v1/sessions")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal([bobSession], all.EnumerateArray().Select(s => s.GetProperty("session_id").GetString()));
        var byUser = await (await b.GetAsync("/v1/sessions?user_id=alice")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal([bobSession], byUser.EnumerateArray().Select(s => s.GetProperty("session_id").GetString()));
        var aList = await (await fixture.Server.Client(fixture.Server.KeyA).GetAsync("/v1/sessions?user_id=alice")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.DoesNotContain(bobSession, aList.GetRawText());
        Assert.Empty(await (await b.GetAsync("/v1/templates")).Content.ReadFromJsonAsync<List<string>>() ?? []);
    }

    private async Task AssertTenantAUntouchedAsync()
    {
        var f = fixture;
        var a = f.Server.Client(f.Server.KeyA);
        var session = await (await a.GetAsync($"/v1/sessions/{f.SessionId}")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, session.GetProperty("conversations").GetArrayLength());
        Assert.False(session.GetProperty("conversations")[0].TryGetProperty("ended_at", out _), "B's request ended A's conversation");
        var memory = await a.GetStringAsync($"/v1/sessions/{f.SessionId}/memory");
        Assert.Contains(f.MemoryId, memory);
        Assert.DoesNotContain("planted by B", memory);
        Assert.DoesNotContain("note from B", memory);
        var shares = await (await a.GetAsync($"/v1/sessions/{f.SessionId}/shares")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, shares.GetArrayLength());
        Assert.False(shares[0].TryGetProperty("revoked_at", out _));
        var transcript = await (await a.GetAsync($"/v1/sessions/{f.SessionId}/conversations/{f.ConversationId}")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, transcript.GetProperty("turns").GetArrayLength());
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path, string? body, string shareToken)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }

        request.Headers.Add("X-Share-Token", shareToken);
        return client.SendAsync(request);
    }
}
