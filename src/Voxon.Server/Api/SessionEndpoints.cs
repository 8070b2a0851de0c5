using Microsoft.AspNetCore.Mvc;
using Voxon.Server.Hosting;
using Voxon.Server.Tenancy;
using Voxon.Sessions;

namespace Voxon.Server.Api;

/// <summary><c>/v1/sessions</c>: create (config, preset or template), list, read, delete.</summary>
internal static class SessionEndpoints
{
    private static readonly Dictionary<string, Func<SessionConfig>> Presets = new(StringComparer.OrdinalIgnoreCase)
    {
        ["conversation"] = () => SessionPresets.Conversation,
        ["task_oriented"] = () => SessionPresets.TaskOriented,
        ["educational"] = () => SessionPresets.Educational,
        ["customer_support"] = () => SessionPresets.CustomerSupport,
    };

    public static void Map(RouteGroupBuilder v1)
    {
        var sessions = v1.MapGroup("/sessions").WithTags("Sessions");
        sessions.MapPost("/", CreateAsync).WithName("CreateSession");
        sessions.MapGet("/", ListAsync).WithName("ListSessions");
        sessions.MapGet("/{id}", GetAsync).WithName("GetSession");
        sessions.MapDelete("/{id}", DeleteAsync).WithName("DeleteSession");
    }

    private static async Task<IResult> CreateAsync(CreateSessionRequest body, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        var tenant = http.Tenant();
        var userId = Tenants.StoredUserId(tenant, body.UserId);
        if (new[] { body.Preset is not null, body.Config is not null, body.Template is not null }.Count(x => x) > 1)
        {
            throw new ArgumentException("Give at most one of preset, config and template.");
        }

        var session = await host.CreateAsync(async () =>
        {
            if (body.Template is { } template)
            {
                return await host.Voxon.CreateSessionFromTemplateAsync(TemplateEndpoints.StoredName(tenant, template), body.Context ?? [], userId, cancellationToken);
            }

            var config = body.Preset is { } preset
                ? (Presets.TryGetValue(preset, out var make) ? make() : throw new ArgumentException($"Unknown preset '{preset}'; use one of {string.Join(", ", Presets.Keys)}."))
                : body.Config ?? new SessionConfig();
            // The server names sessions: a client-chosen id could collide with another tenant's.
            config.SessionId = Storage.SessionIds.NewSessionId();
            return await host.Voxon.CreateSessionAsync(userId, config, cancellationToken);
        }, cancellationToken);
        return Results.Created($"/v1/sessions/{session.SessionId}", new SessionCreated(session.SessionId, body.UserId!, session.Version));
    }

    private static async Task<IResult> ListAsync(HttpContext http, SessionHost host, [FromQuery(Name = "user_id")] string? userId, string? q, CancellationToken cancellationToken)
    {
        var tenant = http.Tenant();
        var all = await host.Voxon.ListSessionsAsync(userId is null ? null : Tenants.StoredUserId(tenant, userId), cancellationToken);
        var items = all
            .Where(s => Tenants.Owns(tenant, s.UserId))
            .Select(s => new SessionListItem(s.SessionId, Tenants.PublicUserId(tenant, s.UserId), s.CreatedAt, s.UpdatedAt, s.ConversationCount, s.MessageCount))
            .Where(s => string.IsNullOrEmpty(q) || s.UserId.Contains(q, StringComparison.OrdinalIgnoreCase) || s.SessionId.Contains(q, StringComparison.OrdinalIgnoreCase))
            .ToList();
        return Results.Ok(items);
    }

    private static Task<SessionDetail> GetAsync(string id, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        var tenant = http.Tenant();
        return host.RunAsync(tenant, id, save: false, live =>
        {
            var s = live.Session;
            var memory = s.GetMemory();
            var config = s.Config.Clone();
            config.UserId = Tenants.PublicUserId(tenant, s.UserId);
            return Task.FromResult(new SessionDetail(
                s.SessionId, config.UserId, s.Version, s.CreatedAt, s.UpdatedAt, config, s.TemplateName is { } t ? Tenants.PublicUserId(tenant, t) : null, s.Conversations,
                memory.Entries.Count, memory.TokenCount, memory.MaxTokens));
        }, cancellationToken);
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        await host.DeleteAsync(http.Tenant(), id, cancellationToken);
        return Results.NoContent();
    }
}
