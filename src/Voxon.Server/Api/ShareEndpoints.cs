using Microsoft.AspNetCore.Mvc;
using Voxon.Server.Hosting;
using Voxon.Server.Tenancy;
using Voxon.Sharing;

namespace Voxon.Server.Api;

/// <summary>Shares of a session (create, list, revoke) and opening one with its token. A share is with a user of the
/// same tenant: another tenant's key presenting the token is refused like a forged token.</summary>
internal static class ShareEndpoints
{
    public const string TokenHeader = "X-Share-Token";

    public static void Map(RouteGroupBuilder v1)
    {
        var shares = v1.MapGroup("/sessions/{id}/shares").WithTags("Shares");
        shares.MapPost("/", CreateAsync).WithName("CreateShare");
        shares.MapGet("/", ListAsync).WithName("ListShares");
        shares.MapDelete("/{shareId}", RevokeAsync).WithName("RevokeShare");

        var shared = v1.MapGroup("/shared").WithTags("Shares");
        shared.MapGet("/", OpenAsync).WithName("OpenShare")
            .WithDescription($"Opens a shared session: the token in the {TokenHeader} header, the user it was shared with in user_id.");
        shared.MapPost("/notes", AddNoteAsync).WithName("AddSharedNote");
    }

    private static async Task<IResult> CreateAsync(string id, CreateShareRequest body, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        var tenant = http.Tenant();
        var with = Tenants.StoredUserId(tenant, body.SharedWith, "shared_with user id");
        var hours = body.ExpiresInHours ?? 24;
        if (hours is <= 0 or > 24 * 365)
        {
            throw new ArgumentException("expires_in_hours must be more than 0 and at most a year.");
        }

        var share = await host.RunAsync(tenant, id, save: false, live =>
            live.Session.CreateSharedViewAsync(with, body.Permissions ?? [SharePermissions.Read], TimeSpan.FromHours(hours), cancellationToken), cancellationToken);
        return Results.Created($"/v1/sessions/{id}/shares/{share.ShareId}", new ShareCreated(share.ShareId, share.Token, Public(tenant, share.Info)));
    }

    private static Task<List<ShareInfo>> ListAsync(string id, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        var tenant = http.Tenant();
        return host.RunAsync(tenant, id, save: false, async live =>
            (await live.Session.ListSharesAsync(cancellationToken)).Select(s => Public(tenant, s)).ToList(), cancellationToken);
    }

    private static async Task<IResult> RevokeAsync(string id, string shareId, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        var revoked = await host.RunAsync(http.Tenant(), id, save: false, live => live.Session.RevokeShareAsync(shareId, cancellationToken), cancellationToken);
        return revoked ? Results.NoContent() : throw new KeyNotFoundException($"Session '{id}' has no share '{shareId}'.");
    }

    private static async Task<IResult> OpenAsync([FromQuery(Name = "user_id")] string? userId, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        var tenant = http.Tenant();
        var view = await AccessAsync(http, host, userId, cancellationToken);
        return Results.Ok(new
        {
            share = Public(tenant, view.Info),
            memory = view.CanRead ? view.GetMemory().Select(e => ApiViews.Memory(tenant, e)).ToList() : null,
            conversations = view.CanRead ? view.GetConversations() : null,
            analytics = view.CanRead ? view.GetAnalytics() : null,
        });
    }

    private static async Task<IResult> AddNoteAsync([FromQuery(Name = "user_id")] string? userId, NoteRequest body, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        var view = await AccessAsync(http, host, userId, cancellationToken);
        var note = await view.AddNoteAsync(body.Content ?? throw new ArgumentException("A note needs 'content'."), body.Importance ?? 0.5, cancellationToken);
        // The note was written to storage behind the live copy's back: the next request must load it afresh.
        await host.DropAsync(view.SessionId);
        return Results.Created((string?)null, ApiViews.Memory(http.Tenant(), note));
    }

    private static Task<SharedSessionView> AccessAsync(HttpContext http, SessionHost host, string? userId, CancellationToken cancellationToken)
    {
        var token = http.Request.Headers[TokenHeader].ToString();
        if (string.IsNullOrEmpty(token))
        {
            throw new ArgumentException($"Send the share token in the {TokenHeader} header.");
        }

        return host.Voxon.AccessSharedSessionAsync(token, Tenants.StoredUserId(http.Tenant(), userId), cancellationToken);
    }

    private static ShareInfo Public(string tenant, ShareInfo info) =>
        info with { OwnerUserId = Tenants.PublicUserId(tenant, info.OwnerUserId), SharedWithUserId = Tenants.PublicUserId(tenant, info.SharedWithUserId) };
}
