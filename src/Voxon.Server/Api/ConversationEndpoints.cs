using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Voxon.Conversations;
using Voxon.Server.Hosting;
using Voxon.Server.Tenancy;

namespace Voxon.Server.Api;

/// <summary>Conversations of a session (start, branch, resume, end, read with injections) and their messages,
/// answered whole or as Server-Sent Events.</summary>
internal static class ConversationEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        var conversations = v1.MapGroup("/sessions/{id}/conversations").WithTags("Conversations");
        conversations.MapPost("/", StartAsync).WithName("StartConversation");
        conversations.MapGet("/", ListAsync).WithName("ListConversations");
        conversations.MapGet("/{cid}", GetAsync).WithName("GetConversation");
        conversations.MapPost("/{cid}/resume", ResumeAsync).WithName("ResumeConversation");
        conversations.MapPost("/{cid}/end", EndAsync).WithName("EndConversation");
        conversations.MapPost("/{cid}/messages", SendAsync).WithName("SendMessage")
            .Produces<MessageReply>()
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
    }

    private static async Task<IResult> StartAsync(string id, StartConversationRequest? body, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        var started = await host.RunAsync(http.Tenant(), id, save: true, async live =>
        {
            // Said here in the API's terms (the library's message names its own method).
            if (body?.ConversationId is { } existing && live.Session.Conversations.Any(c => c.ConversationId == existing))
            {
                throw new Sessions.SessionStateException($"Session '{id}' already has a conversation '{existing}'; resume it (POST .../conversations/{existing}/resume).");
            }

            var conversation = await live.Session.StartConversationAsync(body?.ConversationId, body?.ParentId, cancellationToken);
            live.Open[conversation.ConversationId] = conversation;
            return new ConversationStarted(conversation.ConversationId, conversation.ParentId);
        }, cancellationToken);
        return Results.Created($"/v1/sessions/{id}/conversations/{started.ConversationId}", started);
    }

    private static Task<IReadOnlyList<ConversationInfo>> ListAsync(string id, HttpContext http, SessionHost host, CancellationToken cancellationToken) =>
        host.RunAsync(http.Tenant(), id, save: false, live => Task.FromResult(live.Session.Conversations), cancellationToken);

    private static Task<ConversationDetail> GetAsync(string id, string cid, HttpContext http, SessionHost host, CancellationToken cancellationToken) =>
        host.RunAsync(http.Tenant(), id, save: false, live =>
        {
            var session = live.Session;
            var info = Find(live, cid);
            var memories = session.GetMemory().Entries.ToDictionary(e => e.Id, StringComparer.Ordinal);
            var turns = session.GetTranscript(cid).Select((turn, index) => ApiViews.Turn(http.Tenant(), index, turn, memories)).ToList();
            return Task.FromResult(new ConversationDetail(info, turns, session.GetConversationAnalytics(cid)));
        }, cancellationToken);

    private static Task<ConversationStarted> ResumeAsync(string id, string cid, HttpContext http, SessionHost host, CancellationToken cancellationToken) =>
        host.RunAsync(http.Tenant(), id, save: true, async live =>
        {
            Find(live, cid);
            var conversation = await live.Session.ResumeConversationAsync(cid, cancellationToken);
            live.Open[cid] = conversation;
            return new ConversationStarted(conversation.ConversationId, conversation.ParentId);
        }, cancellationToken);

    private static Task<ConversationInfo> EndAsync(string id, string cid, HttpContext http, SessionHost host, CancellationToken cancellationToken) =>
        host.RunAsync(http.Tenant(), id, save: true, async live =>
        {
            Find(live, cid);
            live.OpenBeforeReload.Remove(cid);
            if (live.Open.Remove(cid, out var open))
            {
                await open.EndAsync(cancellationToken);
            }
            else if (Find(live, cid).EndedAt is null)
            {
                // Open at the last save (another process or a restart): resume it here so it can be ended.
                await (await live.Session.ResumeConversationAsync(cid, cancellationToken)).EndAsync(cancellationToken);
            }

            return Find(live, cid);
        }, cancellationToken);

    private static async Task SendAsync(string id, string cid, MessageRequest body, HttpContext http, SessionHost host, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        var text = body.Text;
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException("The message needs a non-empty 'text'.");
        }

        var streamed = http.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase));
        var options = json.Value.SerializerOptions;
        if (!streamed)
        {
            var reply = await host.RunAsync(http.Tenant(), id, save: true, async live =>
                await (await live.OpenConversationAsync(cid, cancellationToken)).SendMessageAsync(text, cancellationToken), cancellationToken);
            await http.Response.WriteAsJsonAsync(new MessageReply(reply, cid), options, cancellationToken);
            return;
        }

        var sse = new ServerSentEvents(http.Response, options);
        try
        {
            var reply = await host.RunAsync(http.Tenant(), id, save: true, async live =>
            {
                var conversation = await live.OpenConversationAsync(cid, cancellationToken);
                var whole = new System.Text.StringBuilder();
                try
                {
                    await foreach (var delta in conversation.StreamMessageAsync(text, cancellationToken))
                    {
                        whole.Append(delta);
                        await sse.WriteAsync("delta", new { text = delta }, cancellationToken);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // The client left mid-reply: the library recorded the turn as heard (interrupted); saving it
                    // still happens, and the host then ends the request.
                }

                return whole.ToString();
            }, cancellationToken);

            // Sent after the save: "done" means the turn is stored.
            await sse.WriteAsync("done", new MessageReply(reply, cid), cancellationToken);
        }
        catch (Exception ex) when (sse.Started && ex is not OperationCanceledException)
        {
            var (status, title, detail) = ProblemExceptionHandler.Describe(ex);
            await sse.WriteAsync("error", new { status, title, detail }, CancellationToken.None);
        }
    }

    private static ConversationInfo Find(LiveSession live, string cid) =>
        live.Session.Conversations.FirstOrDefault(c => c.ConversationId == cid)
            ?? throw new KeyNotFoundException($"Session '{live.Session.SessionId}' has no conversation '{cid}'.");
}
