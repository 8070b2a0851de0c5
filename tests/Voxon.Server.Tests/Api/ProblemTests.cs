using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Voxon.Server.Tests.Support;
using Voxon.Tests.TestSupport;

namespace Voxon.Server.Tests.Api;

/// <summary>Every error path answers ProblemDetails with the status that names the problem.</summary>
public sealed class ProblemTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private ServerInstance Server => fixture.Server;

    internal static async Task<JsonElement> AssertProblem(HttpResponseMessage response, HttpStatusCode status, string? detailContains = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {status}, got {response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        if (detailContains is not null)
        {
            Assert.Contains(detailContains, problem.GetProperty("detail").GetString());
        }

        return problem;
    }

    [Fact]
    public async Task Missing_or_unknown_key_is_401()
    {
        await AssertProblem(await Server.Client(null).GetAsync("/v1/sessions"), HttpStatusCode.Unauthorized, "Bearer");
        await AssertProblem(await Server.Client("vxk_not-a-real-key").GetAsync("/v1/sessions"), HttpStatusCode.Unauthorized, "unknown");
        var response = await Server.Client("vxk_not-a-real-key").PostAsJsonAsync("/v1/sessions", new { user_id = "x" });
        await AssertProblem(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Bad_ids_are_400()
    {
        var api = Server.Client(Server.KeyA);
        await AssertProblem(await api.GetAsync("/v1/sessions/bad$id"), HttpStatusCode.BadRequest, "Invalid session id");
        await AssertProblem(await api.GetAsync("/v1/sessions/..%2F..%2Fetc"), HttpStatusCode.BadRequest);
        await AssertProblem(await api.PostAsJsonAsync("/v1/sessions", new { user_id = "no spaces" }), HttpStatusCode.BadRequest, "Invalid user id");
        var id = await Server.CreateSessionAsync();
        await AssertProblem(await api.PostAsJsonAsync($"/v1/sessions/{id}/conversations", new { conversation_id = "a/b" }), HttpStatusCode.BadRequest, "conversation id");
    }

    [Fact]
    public async Task Invalid_config_is_400_naming_every_problem()
    {
        var api = Server.Client(Server.KeyA);
        var problem = await AssertProblem(await api.PostAsJsonAsync("/v1/sessions", new { user_id = "u", config = new { temperature = 9.0, max_output_tokens = -1 } }), HttpStatusCode.BadRequest);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("temperature", detail);
        Assert.Contains("max_output_tokens", detail);
        await AssertProblem(await api.PostAsJsonAsync("/v1/sessions", new { user_id = "u", preset = "nope" }), HttpStatusCode.BadRequest, "Unknown preset");
        await AssertProblem(await api.PostAsync("/v1/sessions", new StringContent("{not json", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        await AssertProblem(await api.PostAsJsonAsync("/v1/sessions", new { user_id = "u", config = new { memory_mode = 42 } }), HttpStatusCode.BadRequest);
        await AssertProblem(await api.PostAsJsonAsync("/v1/sessions", new { user_id = "u", template = "missing" }), HttpStatusCode.BadRequest, "No template");
    }

    [Fact]
    public async Task A_body_sent_as_another_media_type_than_json_is_415_saying_what_to_send()
    {
        var api = Server.Client(Server.KeyA);
        var id = await Server.CreateSessionAsync();
        await AssertProblem(await api.PostAsync($"/v1/sessions/{id}/memory", new StringContent("{\"content\":\"a fact\"}", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType, "application/json");
    }

    [Fact]
    public async Task Oversized_body_is_413()
    {
        var api = Server.Client(Server.KeyA);
        var id = await Server.CreateSessionAsync();
        var big = new string('a', 2 * 1024 * 1024);
        await AssertProblem(await api.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = big }), HttpStatusCode.RequestEntityTooLarge);
        // Sent as a large upload should be, waiting for "100 Continue": the server answers 413 from the declared length
        // before the body goes out. Sent straight away, the server's answer and close raced the client's write
        // (sometimes "Broken pipe" instead of the answer).
        using var import = new HttpRequestMessage(HttpMethod.Post, "/v1/sessions/import") { Content = new StringContent(big, Encoding.UTF8, "application/json") };
        import.Headers.ExpectContinue = true;
        await AssertProblem(await api.SendAsync(import), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Unknown_session_conversation_memory_and_share_are_404()
    {
        var api = Server.Client(Server.KeyA);
        await AssertProblem(await api.GetAsync("/v1/sessions/sess_000000000000000000000000"), HttpStatusCode.NotFound, "not found");
        var id = await Server.CreateSessionAsync();
        await AssertProblem(await api.GetAsync($"/v1/sessions/{id}/conversations/nope"), HttpStatusCode.NotFound);
        await AssertProblem(await api.PostAsJsonAsync($"/v1/sessions/{id}/conversations/nope/messages", new { text = "hi" }), HttpStatusCode.NotFound);
        await AssertProblem(await api.DeleteAsync($"/v1/sessions/{id}/memory/mem_nope"), HttpStatusCode.NotFound);
        await AssertProblem(await api.DeleteAsync($"/v1/sessions/{id}/shares/share_nope"), HttpStatusCode.NotFound);
        await AssertProblem(await api.GetAsync("/v1/no-such-route"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Bad_message_and_memory_bodies_are_400()
    {
        var api = Server.Client(Server.KeyA);
        var id = await Server.CreateSessionAsync();
        var cid = await Server.StartConversationAsync(id);
        await AssertProblem(await api.PostAsJsonAsync($"/v1/sessions/{id}/conversations/{cid}/messages", new { text = " " }), HttpStatusCode.BadRequest, "text");
        await AssertProblem(await api.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "x", importance = 3.0 }), HttpStatusCode.BadRequest);
        await AssertProblem(await api.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "Flu symptoms", expires_at = "2027-01-01" }), HttpStatusCode.BadRequest, "expires_at");
        Assert.DoesNotContain("Flu symptoms", await api.GetStringAsync($"/v1/sessions/{id}/memory"), StringComparison.Ordinal);
        await AssertProblem(await api.PostAsJsonAsync("/v1/templates", new { name = "", config = new { } }), HttpStatusCode.BadRequest, "Invalid template name");
        await AssertProblem(await api.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "x", expires_in_seconds = 1e30 }), HttpStatusCode.BadRequest, "expires_in_seconds");
        await AssertProblem(await api.PostAsJsonAsync($"/v1/sessions/{id}/shares", new { shared_with = "../bob" }), HttpStatusCode.BadRequest, "Invalid shared_with user id");
        await AssertProblem(await api.GetAsync($"/v1/sessions/{id}/memory?q=x&top_k=0"), HttpStatusCode.BadRequest, "top_k");
        await AssertProblem(await api.GetAsync($"/v1/sessions/{id}/memory?q=x&min_score=2"), HttpStatusCode.BadRequest, "min_score must be between 0 and 1");
        await AssertProblem(await api.PostAsJsonAsync($"/v1/sessions/{id}/conversations", new { conversation_id = cid }), HttpStatusCode.Conflict, $"already has a conversation '{cid}'; resume it (POST .../conversations/{cid}/resume)");
    }

    [Fact]
    public async Task Errors_reach_clients_that_accept_only_an_event_stream_or_html()
    {
        var id = await Server.CreateSessionAsync(user: "streamer");
        var cid = await Server.StartConversationAsync(id);
        Task<HttpResponseMessage> Send(string? key, string accept, string path, string? body = null)
        {
            var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, path);
            request.Headers.Accept.ParseAdd(accept);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            return Server.Client(key).SendAsync(request);
        }

        // A streamed message (the client accepts only text/event-stream) that fails before its first event.
        await AssertProblem(await Send(Server.KeyA, "text/event-stream", $"/v1/sessions/{id}/conversations/nope/messages", """{"text":"hi"}"""), HttpStatusCode.NotFound, "no conversation 'nope'");
        await AssertProblem(await Send(Server.KeyA, "text/event-stream", $"/v1/sessions/{id}/conversations/{cid}/messages", """{"text":" "}"""), HttpStatusCode.BadRequest, "non-empty 'text'");
        await AssertProblem(await Send(null, "text/event-stream", $"/v1/sessions/{id}/conversations/{cid}/messages", """{"text":"hi"}"""), HttpStatusCode.Unauthorized, "Bearer");
        // A browser opening an API address.
        await AssertProblem(await Send(Server.KeyA, "text/html", "/v1/sessions/sess_000000000000000000000000"), HttpStatusCode.NotFound, "not found");
        await AssertProblem(await Send(null, "text/html", "/v1/sessions"), HttpStatusCode.Unauthorized, "Bearer");
    }

    [Fact]
    public async Task A_metric_whose_sum_would_overflow_is_400_and_the_session_still_saves()
    {
        var api = Server.Client(Server.KeyA);
        var id = await Server.CreateSessionAsync(user: "big_numbers");
        Assert.Equal(HttpStatusCode.NoContent, (await api.PostAsJsonAsync($"/v1/sessions/{id}/metrics", new { name = "bytes", value = 1e308 })).StatusCode);
        await AssertProblem(await api.PostAsJsonAsync($"/v1/sessions/{id}/metrics", new { name = "bytes", value = 1e308 }), HttpStatusCode.BadRequest, "metric 'bytes'");

        // The refused value left nothing behind that the next save could not write.
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "Saved after the refused metric" })).StatusCode);
        var analytics = await (await api.GetAsync($"/v1/sessions/{id}/analytics")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, analytics.GetProperty("metrics").GetProperty("bytes").GetProperty("count").GetInt32());
        await using var restarted = await Server.StartAnotherAsync();
        Assert.Contains("Saved after the refused metric", await restarted.Client(Server.KeyA).GetStringAsync($"/v1/sessions/{id}/memory"));
    }

    [Fact]
    public async Task A_shared_note_with_a_field_notes_lack_is_400_and_not_stored()
    {
        var api = Server.Client(Server.KeyA);
        var id = await Server.CreateSessionAsync(user: "patient");
        var share = await (await api.PostAsJsonAsync($"/v1/sessions/{id}/shares", new { shared_with = "dr_kim", permissions = new[] { "read", "add_notes" } })).Content.ReadFromJsonAsync<JsonElement>();
        var token = share.GetProperty("token").GetString()!;
        Task<HttpResponseMessage> NoteAsync(object body)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/shared/notes?user_id=dr_kim") { Content = JsonContent.Create(body) };
            request.Headers.Add("X-Share-Token", token);
            return api.SendAsync(request);
        }

        // Notes cannot be sensitive, categorised or expiring: a note asking to be kept secret must not be stored in the clear.
        await AssertProblem(await NoteAsync(new { content = "Direct line 555-0100", sensitive = true }), HttpStatusCode.BadRequest, "sensitive");
        await AssertProblem(await NoteAsync(new { content = "Recheck in a week", expires_in_seconds = 604800 }), HttpStatusCode.BadRequest, "expires_in_seconds");
        Assert.Equal(HttpStatusCode.Created, (await NoteAsync(new { content = "Reviewed the chart", importance = 0.7 })).StatusCode);
        var memory = await api.GetStringAsync($"/v1/sessions/{id}/memory");
        Assert.DoesNotContain("555-0100", memory, StringComparison.Ordinal);
        Assert.DoesNotContain("Recheck", memory, StringComparison.Ordinal);
        Assert.Contains("Reviewed the chart", memory, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_session_limit_is_409_and_a_failing_model_is_502_not_a_server_failure()
    {
        await using var model = LoopbackChatServer.Start();
        model.Status = 500;
        await using var server = await ServerInstance.StartAsync(o => o.ConfigureVoxon = v =>
        {
            v.UseEnvironment = false;
            v.MaxSessionsPerUser = 1;
            v.Model = new Voxon.Engine.ModelOptions { Endpoint = model.Endpoint, Model = "test-model", ApiKey = "k" };
        });
        var api = server.Client(server.KeyA);
        var id = await server.CreateSessionAsync(user: "limited");
        await AssertProblem(await api.PostAsJsonAsync("/v1/sessions", new { user_id = "limited" }), HttpStatusCode.Conflict, "already has 1 stored sessions");

        var cid = await server.StartConversationAsync(id);
        var failed = await AssertProblem(await api.PostAsJsonAsync($"/v1/sessions/{id}/conversations/{cid}/messages", new { text = "Hello" }), HttpStatusCode.BadGateway, "model did not answer");
        // Where the model lives is the server's business, not the tenant's.
        Assert.DoesNotContain(model.Endpoint.Authority, failed.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_whose_save_failed_is_stored_once_when_the_client_retries()
    {
        var api = Server.Client(Server.KeyA);
        var id = await Server.CreateSessionAsync(user: "retrier");
        var cid = await Server.StartConversationAsync(id);

        // Storage fails for a moment: the session's journal cannot be written (a folder stands where the file goes).
        var journal = Path.Combine(Server.Store, id + ".journal");
        var aside = journal + ".aside";
        File.Move(journal, aside);
        Directory.CreateDirectory(journal);
        try
        {
            await AssertProblem(await api.PostAsJsonAsync($"/v1/sessions/{id}/conversations/{cid}/messages", new { text = "Book a table for two" }), HttpStatusCode.ServiceUnavailable, "try again");
        }
        finally
        {
            Directory.Delete(journal);
            File.Move(aside, journal);
        }

        // The client does as told and tries again: the turn is there once, live and stored.
        await Server.SendAsync(id, cid, "Book a table for two");
        var turns = (await (await api.GetAsync($"/v1/sessions/{id}/conversations/{cid}")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("turns");
        Assert.Equal(["Book a table for two"], turns.EnumerateArray().Where(t => t.GetProperty("role").GetString() == "user").Select(t => t.GetProperty("content").GetString()));
        await using var restarted = await Server.StartAnotherAsync();
        var stored = await (await restarted.Client(Server.KeyA).GetAsync($"/v1/sessions/{id}/conversations/{cid}")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, stored.GetProperty("turns").GetArrayLength());
    }

    [Fact]
    public async Task Stale_version_is_409_and_the_next_request_sees_the_current_one()
    {
        var id = await Server.CreateSessionAsync(user: "stale");
        var first = Server.Client(Server.KeyA);
        Assert.Equal(HttpStatusCode.OK, (await first.GetAsync($"/v1/sessions/{id}")).StatusCode);

        // Another process over the same storage changes the session.
        await using var other = await Server.StartAnotherAsync();
        var second = other.Client(Server.KeyA);
        Assert.Equal(HttpStatusCode.Created, (await second.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "Written elsewhere" })).StatusCode);

        // This server's copy is stale: its save is refused rather than overwriting the other write.
        await AssertProblem(await first.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "Written here" }), HttpStatusCode.Conflict, "version");
        Assert.Equal(HttpStatusCode.Created, (await first.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "Written here" })).StatusCode);
        var memory = (await (await first.GetAsync($"/v1/sessions/{id}/memory")).Content.ReadAsStringAsync());
        Assert.Contains("Written elsewhere", memory);
        Assert.Contains("Written here", memory);
    }

    [Fact]
    public async Task A_key_file_held_by_another_writer_is_503_with_retry_after_and_changes_nothing()
    {
        var admin = Server.Client(Server.AdminKey);
        HttpResponseMessage busy;

        // Another writer (a 'voxon keys' command, say) holds the key file's lock past the server's wait.
        using (new FileStream(Server.Keys.Path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            busy = await admin.PostAsJsonAsync("/v1/keys", new { tenant = "tenant-busy" });
        }

        await AssertProblem(busy, HttpStatusCode.ServiceUnavailable, "is being changed by another process");
        Assert.NotNull(busy.Headers.RetryAfter);
        Assert.DoesNotContain(Server.Keys.List(), k => k.Tenant == "tenant-busy");
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/v1/keys", new { tenant = "tenant-busy" })).StatusCode);
    }

    [Fact]
    public async Task Rate_limit_per_key_is_429_with_retry_after()
    {
        await using var server = await ServerInstance.StartAsync(o => { o.RateLimitPermits = 5; o.RateLimitWindow = TimeSpan.FromMinutes(1); });
        var a = server.Client(server.KeyA);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await a.GetAsync("/v1/sessions")).StatusCode);
        }

        var limited = await a.GetAsync("/v1/sessions");
        await AssertProblem(limited, HttpStatusCode.TooManyRequests, "5 requests");
        Assert.NotNull(limited.Headers.RetryAfter);
        // Per key: tenant B's key still has its own allowance, and health needs none.
        Assert.Equal(HttpStatusCode.OK, (await server.Client(server.KeyB).GetAsync("/v1/sessions")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client(null).GetAsync("/healthz")).StatusCode);
    }
}
