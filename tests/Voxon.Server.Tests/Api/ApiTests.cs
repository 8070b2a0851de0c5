using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Voxon.Server.Tests.Support;
using Voxon.Tests.TestSupport;

namespace Voxon.Server.Tests.Api;

/// <summary>Every endpoint's happy path over real HTTP.</summary>
public sealed class ApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private ServerInstance Server => fixture.Server;

    private static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task Session_is_created_listed_read_and_deleted()
    {
        var api = Server.Client(Server.KeyA);
        var created = await Json(await api.PostAsJsonAsync("/v1/sessions", new { user_id = "carol", preset = "educational" }), HttpStatusCode.Created);
        var id = created.GetProperty("session_id").GetString()!;
        Assert.StartsWith("sess_", id);

        var list = await Json(await api.GetAsync("/v1/sessions?user_id=carol"));
        Assert.Equal(id, Assert.Single(list.EnumerateArray()).GetProperty("session_id").GetString());
        Assert.Equal("carol", list[0].GetProperty("user_id").GetString());

        var detail = await Json(await api.GetAsync($"/v1/sessions/{id}"));
        Assert.Equal("carol", detail.GetProperty("user_id").GetString());
        Assert.Contains("patient tutor", detail.GetProperty("config").GetProperty("instructions").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/v1/sessions/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/v1/sessions/{id}")).StatusCode);
        Assert.Empty((await Json(await api.GetAsync("/v1/sessions?user_id=carol"))).EnumerateArray());
    }

    [Fact]
    public async Task A_session_closed_by_the_idle_timeout_is_reloaded_by_the_next_request()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var logs = new LogCollector();
        await using var server = await ServerInstance.StartAsync(o => o.ConfigureVoxon = v =>
        {
            v.UseEnvironment = false;
            v.TimeProvider = time;
            v.SessionTimeout = TimeSpan.FromMinutes(30);
            v.LoggerFactory = logs.Factory;
        });
        var id = await server.CreateSessionAsync(user: "dana");
        var conversation = await server.StartConversationAsync(id);
        await server.SendAsync(id, conversation, "My name is Dana.");

        time.Advance(TimeSpan.FromMinutes(31));
        await logs.WaitForAsync("closed after");

        // The live copy is closed; the server loads the stored one instead of failing on it.
        var api = server.Client(server.KeyA);
        var memory = await Json(await api.GetAsync($"/v1/sessions/{id}/memory"));
        Assert.Contains("Dana", memory.ToString(), StringComparison.Ordinal);
        await Json(await api.PostAsJsonAsync($"/v1/sessions/{id}/conversations/{conversation}/resume", new { }));
        Assert.Contains("Dana", await server.SendAsync(id, conversation, "What's my name?"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_from_config_and_from_template()
    {
        var api = Server.Client(Server.KeyA);
        var fromConfig = await Json(await api.PostAsJsonAsync("/v1/sessions", new { user_id = "dan", config = new { instructions = "Be brief", memory_mode = "ephemeral", context_token_budget = 800 } }), HttpStatusCode.Created);
        var config = (await Json(await api.GetAsync($"/v1/sessions/{fromConfig.GetProperty("session_id").GetString()}"))).GetProperty("config");
        Assert.Equal("Be brief", config.GetProperty("instructions").GetString());
        Assert.Equal("ephemeral", config.GetProperty("memory_mode").GetString());
        Assert.Equal(800, config.GetProperty("context_token_budget").GetInt32());

        await Json(await api.PostAsJsonAsync("/v1/templates", new { name = "intake", config = new { instructions = "Intake nurse" }, required_context = new[] { "patient_id" }, memory_categories = new[] { "symptoms" } }), HttpStatusCode.Created);
        Assert.Contains("intake", (await Json(await api.GetAsync("/v1/templates"))).EnumerateArray().Select(e => e.GetString()));
        var fromTemplate = await Json(await api.PostAsJsonAsync("/v1/sessions", new { user_id = "erin", template = "intake", context = new Dictionary<string, string> { ["patient_id"] = "P1" } }), HttpStatusCode.Created);
        var detail = await Json(await api.GetAsync($"/v1/sessions/{fromTemplate.GetProperty("session_id").GetString()}"));
        Assert.Equal("intake", detail.GetProperty("template_name").GetString());
        Assert.Equal("Intake nurse", detail.GetProperty("config").GetProperty("instructions").GetString());
    }

    [Fact]
    public async Task Conversation_turns_record_injected_memories_with_why()
    {
        var api = Server.Client(Server.KeyA);
        var id = await Server.CreateSessionAsync(user: "frank", body: new { user_id = "frank", config = new { memory_mode = "persistent" } });
        var main = await Server.StartConversationAsync(id, body: new { conversation_id = "main" });
        Assert.Equal("main", main);
        await Server.SendAsync(id, main, "My name is Frank");
        await Server.SendAsync(id, main, "I'm interested in astronomy");
        var reply = await Server.SendAsync(id, main, "What's my name and interest?");
        Assert.Contains("Frank", reply);
        Assert.Contains("astronomy", reply);

        var conversation = await Json(await api.GetAsync($"/v1/sessions/{id}/conversations/{main}"));
        var turns = conversation.GetProperty("turns").EnumerateArray().ToList();
        Assert.Equal(6, turns.Count);
        var question = turns[4];
        Assert.Equal("user", question.GetProperty("role").GetString());
        var injections = question.GetProperty("injections").EnumerateArray().ToList();
        Assert.Contains(injections, i => i.GetProperty("memory").GetProperty("content").GetString()!.Contains("Frank"));
        Assert.All(injections, i => Assert.True(i.GetProperty("score").GetDouble() > 0));
        Assert.All(injections, i => Assert.False(string.IsNullOrEmpty(i.GetProperty("reason").GetString())));
        var context = question.GetProperty("context");
        Assert.True(context.GetProperty("tokens").GetInt32() > 0);
        Assert.Equal(1500, context.GetProperty("budget").GetInt32());

        // Stored with the turn: a restarted server shows the same injections.
        await using (var restarted = await Server.StartAnotherAsync())
        {
            var reloaded = await Json(await restarted.Client(Server.KeyA).GetAsync($"/v1/sessions/{id}/conversations/{main}"));
            Assert.Equal(injections.Count, reloaded.GetProperty("turns")[4].GetProperty("injections").GetArrayLength());
            Assert.Equal(1500, reloaded.GetProperty("turns")[4].GetProperty("context").GetProperty("budget").GetInt32());
        }

        // Branch, end, resume.
        var branch = await Json(await api.PostAsJsonAsync($"/v1/sessions/{id}/conversations", new { parent_id = main }), HttpStatusCode.Created);
        Assert.Equal(main, branch.GetProperty("parent_id").GetString());
        var ended = await Json(await api.PostAsync($"/v1/sessions/{id}/conversations/{main}/end", null));
        Assert.True(ended.GetProperty("ended_at").ValueKind == JsonValueKind.String);
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsJsonAsync($"/v1/sessions/{id}/conversations/{main}/messages", new { text = "hi" })).StatusCode);
        await Json(await api.PostAsync($"/v1/sessions/{id}/conversations/{main}/resume", null));
        await Server.SendAsync(id, main, "Thanks");
        var all = await Json(await api.GetAsync($"/v1/sessions/{id}/conversations"));
        Assert.Equal(2, all.GetArrayLength());
    }

    [Fact]
    public async Task Reply_streams_as_server_sent_events_and_is_stored()
    {
        var id = await Server.CreateSessionAsync(user: "gina");
        var cid = await Server.StartConversationAsync(id);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{id}/conversations/{cid}/messages")
        {
            Content = JsonContent.Create(new { text = "My name is Gina" }),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var response = await Server.Client(Server.KeyA).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = Parse(await response.Content.ReadAsStringAsync());
        var deltas = string.Concat(events.Where(e => e.Name == "delta").Select(e => e.Data.GetProperty("text").GetString()));
        var done = Assert.Single(events, e => e.Name == "done").Data.GetProperty("reply").GetString();
        Assert.Equal(done, deltas);
        Assert.False(string.IsNullOrEmpty(done));

        var turns = (await Json(await Server.Client(Server.KeyA).GetAsync($"/v1/sessions/{id}/conversations/{cid}"))).GetProperty("turns");
        Assert.Equal(done, turns[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task A_client_that_leaves_mid_reply_leaves_the_turn_stored_as_far_as_it_was_sent()
    {
        await using var model = LoopbackChatServer.Start();
        model.Reply = "Quantum physics studies the smallest things that exist in nature.";
        (model.StallAfterWords, model.Stall) = (2, TimeSpan.FromSeconds(2));
        await using var server = await ServerInstance.StartAsync(o => o.ConfigureVoxon = v =>
        {
            v.UseEnvironment = false;
            v.Model = new Voxon.Engine.ModelOptions { Endpoint = model.Endpoint, Model = "test-model", ApiKey = "k" };
        });
        var api = server.Client(server.KeyA);
        var id = await server.CreateSessionAsync(user: "hana");
        var cid = await server.StartConversationAsync(id);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{id}/conversations/{cid}/messages")
        {
            Content = JsonContent.Create(new { text = "Tell me about quantum physics" }),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));

        // Two words arrive, then the model stalls and the client goes away (at once: a client that drained the rest of
        // the response first, as HttpClient does for up to two seconds by default, would have read the whole reply).
        using var leaving = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = server.BaseAddress };
        leaving.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.KeyA);
        using (var response = await leaving.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            for (var deltas = 0; deltas < 2;)
            {
                deltas += (await reader.ReadLineAsync())!.StartsWith("event: delta", StringComparison.Ordinal) ? 1 : 0;
            }
        }

        // The server notices the departure, stops the model and saves the turn: waited for, up to ten seconds.
        var turns = (await Json(await api.GetAsync($"/v1/sessions/{id}/conversations/{cid}"))).GetProperty("turns");
        for (var waited = 0; waited < 200 && turns.GetArrayLength() < 2; waited++)
        {
            await Task.Delay(50);
            turns = (await Json(await api.GetAsync($"/v1/sessions/{id}/conversations/{cid}"))).GetProperty("turns");
        }

        Assert.Equal(2, turns.GetArrayLength());
        Assert.Equal("Quantum physics", turns[1].GetProperty("content").GetString()!.Trim());
        Assert.True(turns[1].GetProperty("interrupted").GetBoolean());
    }

    internal static List<(string Name, JsonElement Data)> Parse(string stream) =>
        [.. stream.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block =>
        {
            var lines = block.Split('\n');
            var name = lines.First(l => l.StartsWith("event: ", StringComparison.Ordinal))[7..];
            var data = lines.First(l => l.StartsWith("data: ", StringComparison.Ordinal))[6..];
            return (name, JsonDocument.Parse(data).RootElement.Clone());
        })];

    [Fact]
    public async Task Memory_is_added_listed_searched_forgotten_and_exported()
    {
        var api = Server.Client(Server.KeyA);
        var id = await Server.CreateSessionAsync(user: "hana");
        var added = await Json(await api.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "Prefers morning appointments", category = "scheduling", importance = 0.8 }), HttpStatusCode.Created);
        var memoryId = added.GetProperty("id").GetString()!;
        await Json(await api.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "Phone is 555-0199", category = "contact", sensitive = true }), HttpStatusCode.Created);

        var list = await Json(await api.GetAsync($"/v1/sessions/{id}/memory"));
        Assert.Equal(2, list.GetProperty("entries").GetArrayLength());
        Assert.DoesNotContain("555-0199", list.GetRawText());
        Assert.DoesNotContain("embedding", list.GetRawText());

        var hits = await Json(await api.GetAsync($"/v1/sessions/{id}/memory?q=when%20are%20appointments"));
        Assert.Equal(memoryId, hits[0].GetProperty("memory").GetProperty("id").GetString());
        Assert.True(hits[0].GetProperty("score").GetDouble() > 0);

        var export = await api.GetStringAsync($"/v1/sessions/{id}/memory/export");
        Assert.Contains("Prefers morning appointments", export);
        Assert.DoesNotContain("555-0199", export);

        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/v1/sessions/{id}/memory/{memoryId}")).StatusCode);
        Assert.Equal(1, (await Json(await api.GetAsync($"/v1/sessions/{id}/memory"))).GetProperty("entries").GetArrayLength());

        // Stored: a restarted server sees the forget.
        await using var restarted = await Server.StartAnotherAsync();
        var after = await Json(await restarted.Client(Server.KeyA).GetAsync($"/v1/sessions/{id}/memory"));
        Assert.DoesNotContain("Prefers morning", after.GetRawText());
    }

    [Fact]
    public async Task Analytics_metrics_and_preferences()
    {
        var api = Server.Client(Server.KeyA);
        var id = await Server.CreateSessionAsync(user: "ivan");
        var cid = await Server.StartConversationAsync(id);
        await Server.SendAsync(id, cid, "I love learning about quantum physics and quantum computing");
        Assert.Equal(HttpStatusCode.NoContent, (await api.PostAsJsonAsync($"/v1/sessions/{id}/metrics", new { name = "user_satisfaction", value = 4.5 })).StatusCode);
        var analytics = await Json(await api.GetAsync($"/v1/sessions/{id}/analytics"));
        Assert.Equal(2, analytics.GetProperty("session").GetProperty("message_count").GetInt32());
        Assert.Equal(4.5, analytics.GetProperty("session").GetProperty("satisfaction_score").GetDouble());
        Assert.Equal(24, analytics.GetProperty("session").GetProperty("hourly_activity").GetArrayLength());
        Assert.Equal(cid, analytics.GetProperty("conversations")[0].GetProperty("conversation_id").GetString());
        Assert.True(analytics.GetProperty("metrics").TryGetProperty("user_satisfaction", out _));

        var preferences = await Json(await api.PutAsJsonAsync($"/v1/sessions/{id}/preferences/formality", new { value = "always_formal" }));
        Assert.Equal("always_formal", preferences.GetProperty("overrides").GetProperty("formality").GetString());
        Assert.Equal("always_formal", (await Json(await api.GetAsync($"/v1/sessions/{id}/preferences"))).GetProperty("overrides").GetProperty("formality").GetString());
    }

    [Fact]
    public async Task Shares_are_created_opened_listed_and_revoked()
    {
        var api = Server.Client(Server.KeyA);
        var id = await Server.CreateSessionAsync(user: "judy");
        await api.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "Allergic to penicillin", category = "medical" });
        var share = await Json(await api.PostAsJsonAsync($"/v1/sessions/{id}/shares", new { shared_with = "dr_lee", permissions = new[] { "read", "add_notes" }, expires_in_hours = 2 }), HttpStatusCode.Created);
        var token = share.GetProperty("token").GetString()!;
        var shareId = share.GetProperty("share_id").GetString()!;
        Assert.Equal("dr_lee", share.GetProperty("share").GetProperty("shared_with_user_id").GetString());

        using var open = new HttpRequestMessage(HttpMethod.Get, "/v1/shared?user_id=dr_lee");
        open.Headers.Add("X-Share-Token", token);
        var view = await Json(await api.SendAsync(open));
        Assert.Contains("penicillin", view.GetProperty("memory").GetRawText());

        using var note = new HttpRequestMessage(HttpMethod.Post, "/v1/shared/notes?user_id=dr_lee") { Content = JsonContent.Create(new { content = "Reviewed allergy list" }) };
        note.Headers.Add("X-Share-Token", token);
        await Json(await api.SendAsync(note), HttpStatusCode.Created);
        Assert.Contains("Reviewed allergy list", (await Json(await api.GetAsync($"/v1/sessions/{id}/memory"))).GetRawText());

        var shares = await Json(await api.GetAsync($"/v1/sessions/{id}/shares"));
        Assert.Equal(shareId, Assert.Single(shares.EnumerateArray()).GetProperty("share_id").GetString());
        Assert.DoesNotContain(token, shares.GetRawText());
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/v1/sessions/{id}/shares/{shareId}")).StatusCode);
        using var again = new HttpRequestMessage(HttpMethod.Get, "/v1/shared?user_id=dr_lee");
        again.Headers.Add("X-Share-Token", token);
        Assert.Equal(HttpStatusCode.NotFound, (await api.SendAsync(again)).StatusCode);
    }

    [Fact]
    public async Task An_open_conversation_stays_open_when_the_server_reloads_its_session()
    {
        await using var server = await ServerInstance.StartAsync(o => o.MaxLiveSessions = 1);
        var api = server.Client(server.KeyA);
        var id = await server.CreateSessionAsync(user: "kai");
        var cid = await server.StartConversationAsync(id);
        await server.SendAsync(id, cid, "My name is Kai");

        // A note through a share is written to storage behind the live copy, which is then reloaded.
        var share = await Json(await api.PostAsJsonAsync($"/v1/sessions/{id}/shares", new { shared_with = "coach", permissions = new[] { "add_notes" } }), HttpStatusCode.Created);
        using var note = new HttpRequestMessage(HttpMethod.Post, "/v1/shared/notes?user_id=coach") { Content = JsonContent.Create(new { content = "Training for a marathon" }) };
        note.Headers.Add("X-Share-Token", share.GetProperty("token").GetString());
        await Json(await api.SendAsync(note), HttpStatusCode.Created);
        await server.SendAsync(id, cid, "I like running");

        // Past MaxLiveSessions the least recently used session is dropped from memory, and loaded again when used.
        await server.CreateSessionAsync(user: "other");
        await server.SendAsync(id, cid, "What's my name?");

        var conversation = await Json(await api.GetAsync($"/v1/sessions/{id}/conversations/{cid}"));
        Assert.Equal(6, conversation.GetProperty("turns").GetArrayLength());
        Assert.False(conversation.GetProperty("conversation").TryGetProperty("ended_at", out _), "the client never ended it");
    }

    [Fact]
    public async Task Export_and_import_round_trip_into_the_callers_tenant()
    {
        var api = Server.Client(Server.KeyA);
        var id = await Server.CreateSessionAsync(user: "kim");
        await api.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "Plays the cello" });
        var export = await api.GetByteArrayAsync($"/v1/sessions/{id}/export");
        Assert.Contains("Plays the cello", Encoding.UTF8.GetString(export));

        var imported = await Json(await api.PostAsync("/v1/sessions/import?user_id=kim2", new ByteArrayContent(export) { Headers = { ContentType = new("application/json") } }), HttpStatusCode.Created);
        var newId = imported.GetProperty("session_id").GetString()!;
        Assert.NotEqual(id, newId);
        Assert.Equal("kim2", (await Json(await api.GetAsync($"/v1/sessions/{newId}"))).GetProperty("user_id").GetString());
        Assert.Contains("Plays the cello", (await Json(await api.GetAsync($"/v1/sessions/{newId}/memory"))).GetRawText());

        // Tenant B importing A's export gets its own copy, owned by B.
        var b = Server.Client(Server.KeyB);
        var copy = await Json(await b.PostAsync("/v1/sessions/import", new ByteArrayContent(export) { Headers = { ContentType = new("application/json") } }), HttpStatusCode.Created);
        var copyId = copy.GetProperty("session_id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync($"/v1/sessions/{copyId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/v1/sessions/{copyId}")).StatusCode);
    }

    [Fact]
    public async Task Exports_and_note_authors_name_users_as_the_tenant_knows_them_and_an_import_makes_them_the_callers()
    {
        // Stored user ids carry the tenant ("tenant-a.lena"): exports and note authors showed them so, and tenant B's
        // copy of A's export kept A's name in its owner ("tenant-a.lena") and note authors.
        var api = Server.Client(Server.KeyA);
        var id = await Server.CreateSessionAsync(user: "lena");
        var share = await Json(await api.PostAsJsonAsync($"/v1/sessions/{id}/shares", new { shared_with = "dr_kim", permissions = new[] { "read", "add_notes" } }), HttpStatusCode.Created);
        using var note = new HttpRequestMessage(HttpMethod.Post, "/v1/shared/notes?user_id=dr_kim") { Content = JsonContent.Create(new { content = "Checked the dosage" }) };
        note.Headers.Add("X-Share-Token", share.GetProperty("token").GetString());
        Assert.Equal("dr_kim", (await Json(await api.SendAsync(note), HttpStatusCode.Created)).GetProperty("author").GetString());
        var entries = (await Json(await api.GetAsync($"/v1/sessions/{id}/memory"))).GetProperty("entries");
        Assert.Equal("dr_kim", entries.EnumerateArray().Single(e => e.GetProperty("content").GetString() == "Checked the dosage").GetProperty("author").GetString());

        var export = await api.GetByteArrayAsync($"/v1/sessions/{id}/export");
        Assert.Contains("\"user_id\":\"lena\"", Encoding.UTF8.GetString(export));
        Assert.DoesNotContain("tenant-a", Encoding.UTF8.GetString(export));
        Assert.DoesNotContain("tenant-a", await api.GetStringAsync($"/v1/sessions/{id}/memory/export"));

        var b = Server.Client(Server.KeyB);
        var copy = await Json(await b.PostAsync("/v1/sessions/import", new ByteArrayContent(export) { Headers = { ContentType = new("application/json") } }), HttpStatusCode.Created);
        Assert.Equal("lena", copy.GetProperty("user_id").GetString());
        var stored = await Server.Service<Voxon.Server.Hosting.SessionHost>().Voxon.LoadSessionAsync(copy.GetProperty("session_id").GetString()!);
        Assert.Equal("tenant-b.lena", stored.UserId);
        Assert.Equal("tenant-b.dr_kim", stored.GetMemory().Entries.Single(e => e.Content == "Checked the dosage").Author);

        // Back into tenant A, the same users are A's again.
        var back = await Json(await api.PostAsync("/v1/sessions/import", new ByteArrayContent(export) { Headers = { ContentType = new("application/json") } }), HttpStatusCode.Created);
        var restored = await Server.Service<Voxon.Server.Hosting.SessionHost>().Voxon.LoadSessionAsync(back.GetProperty("session_id").GetString()!);
        Assert.Equal("tenant-a.lena", restored.UserId);
        Assert.Equal("tenant-a.dr_kim", restored.GetMemory().Entries.Single(e => e.Content == "Checked the dosage").Author);
    }

    [Fact]
    public async Task Health_and_openapi_need_no_key()
    {
        var anonymous = Server.Client(null);
        var health = await Json(await anonymous.GetAsync("/healthz"));
        Assert.Equal("ok", health.GetProperty("status").GetString());
        var openapi = await Json(await anonymous.GetAsync("/openapi/v1.json"));
        var paths = openapi.GetProperty("paths");
        foreach (var path in new[] { "/v1/sessions", "/v1/sessions/{id}", "/v1/sessions/{id}/conversations/{cid}/messages", "/v1/sessions/{id}/memory", "/v1/sessions/{id}/memory/{memoryId}", "/v1/sessions/{id}/analytics" })
        {
            Assert.True(paths.TryGetProperty(path, out _), path);
        }
    }

    [Fact]
    public async Task Admin_key_manages_keys()
    {
        var admin = Server.Client(Server.AdminKey);
        var created = await Json(await admin.PostAsJsonAsync("/v1/keys", new { tenant = "tenant-c" }), HttpStatusCode.Created);
        var key = created.GetProperty("key").GetString()!;
        var me = await Json(await Server.Client(key).GetAsync("/v1/keys/me"));
        Assert.Equal("tenant-c", me.GetProperty("tenant").GetString());
        Assert.DoesNotContain(key, (await Json(await admin.GetAsync("/v1/keys"))).GetRawText());
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/keys/{created.GetProperty("key_id").GetString()}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Server.Client(key).GetAsync("/v1/keys/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Server.Client(Server.KeyA).PostAsJsonAsync("/v1/keys", new { tenant = "x" })).StatusCode);
    }

    [Fact]
    public async Task Keys_are_stored_hashed()
    {
        var text = await File.ReadAllTextAsync(Server.Keys.Path);
        foreach (var key in new[] { Server.AdminKey, Server.KeyA, Server.KeyB })
        {
            Assert.DoesNotContain(key, text);
            Assert.DoesNotContain(key["vxk_".Length..][..16], text);
            Assert.Contains(Voxon.Server.Tenancy.ApiKeyStore.Hash(key), text);
        }
    }
}
