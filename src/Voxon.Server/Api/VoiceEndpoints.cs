using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Voxon.Conversations;
using Voxon.Server.Hosting;
using Voxon.Server.Tenancy;

namespace Voxon.Server.Api;

/// <summary><c>GET /v1/sessions/{id}/voice</c>: a WebSocket that relays a spoken conversation between the client and the
/// realtime engine (<see cref="Sessions.Session.StartVoiceConversationAsync"/>), with the session's memory. The session
/// is held for the whole call (its other requests wait), and saved when it ends.</summary>
internal static class VoiceEndpoints
{
    /// <summary>The subprotocol the server selects when the client offers it (browsers offer it beside <c>bearer.KEY</c>).</summary>
    public const string Subprotocol = "voxon.v1";

    public static void Map(RouteGroupBuilder v1) =>
        v1.MapGet("/sessions/{id}/voice", RelayAsync).WithTags("Voice").WithName("Voice")
            .Produces(StatusCodes.Status101SwitchingProtocols)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status501NotImplemented);

    // Query: conversation_id (a new conversation when absent), parent_id (to branch), vad=false for push to talk (the
    // client ends each utterance with {"type":"commit"}).
    private static async Task<IResult> RelayAsync(
        string id, [FromQuery(Name = "conversation_id")] string? conversationId, [FromQuery(Name = "parent_id")] string? parentId, bool? vad, HttpContext http, SessionHost host, IOptions<JsonOptions> json,
        ILogger<VoiceRelay> logger, CancellationToken cancellationToken)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "WebSocket required",
                detail: $"GET /v1/sessions/{id}/voice is a WebSocket: connect with an Upgrade request.");
        }

        if (host.Voxon.Realtime is null)
        {
            // The server's configuration, not the caller's request: not "400 Invalid config".
            return Results.Problem(
                statusCode: StatusCodes.Status501NotImplemented,
                title: "Voice not configured",
                detail: $"This server has no realtime speech endpoint: its operator sets {Voxon.Engine.Realtime.RealtimeOptions.EndpointVariable} and {Voxon.Engine.Realtime.RealtimeOptions.ModelVariable} (or VoxonOptions.Realtime).");
        }

        var options = new VoiceConversationOptions { ConversationId = conversationId, ParentId = parentId, ServerVad = vad ?? true };
        return await host.RunAsync(http.Tenant(), id, save: false, async live =>
        {
            // The realtime connection opens before the upgrade, so a refused one is still answered with ProblemDetails.
            var voice = await live.Session.StartVoiceConversationAsync(options, cancellationToken);
            try
            {
                var protocol = http.WebSockets.WebSocketRequestedProtocols.Contains(Subprotocol) ? Subprotocol : null;
                using var socket = await http.WebSockets.AcceptWebSocketAsync(protocol);
                await new VoiceRelay(socket, voice, json.Value.SerializerOptions, logger).RunAsync(cancellationToken);
            }
            finally
            {
                await voice.DisposeAsync();
            }

            // Saved here rather than by the host, which drops a copy whose save failed: a call cannot be retried, so its
            // turns stay in the live copy for the next save to store.
            await live.Session.SaveAsync(CancellationToken.None);
            return Results.Empty;
        }, cancellationToken);
    }
}
