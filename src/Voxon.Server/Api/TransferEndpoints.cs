using Microsoft.AspNetCore.Mvc;
using System.Text.Json;
using Voxon.Server.Hosting;
using Voxon.Server.Tenancy;

namespace Voxon.Server.Api;

/// <summary>Full export of a session and import of one, always into the caller's tenant.</summary>
internal static class TransferEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/sessions/{id}/export", ExportAsync).WithTags("Transfer").WithName("ExportSession")
            .Produces(StatusCodes.Status200OK, contentType: "application/json");
        v1.MapPost("/sessions/import", ImportAsync).WithTags("Transfer").WithName("ImportSession")
            .Accepts<JsonElement>("application/json")
            .WithDescription("Imports an export under a new session id, owned by user_id (default: the exported owner) of the caller's tenant.");
    }

    private static Task<IResult> ExportAsync(string id, HttpContext http, SessionHost host, CancellationToken cancellationToken) =>
        host.RunAsync(http.Tenant(), id, save: false, async live =>
        {
            var export = TenantExports.ForTenant(http.Tenant(), await live.Session.ExportFullAsync(cancellationToken));
            return Results.Bytes(export.ToUtf8Bytes(), "application/json", $"{id}.json");
        }, cancellationToken);

    private static async Task<IResult> ImportAsync([FromQuery(Name = "user_id")] string? userId, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        var tenant = http.Tenant();
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, cancellationToken);
        var data = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);

        // Every user id is remapped into the caller's tenant: an export naming another tenant's users must not become a
        // session that tenant owns, nor keep that tenant's name in its authors.
        var payload = Migration.SessionImporter.Read(data, host.Voxon.Options.MaxImportSize);
        var mapping = TenantExports.IntoTenant(tenant, payload, userId);
        var owner = mapping[payload.Session.UserId];
        var session = await host.Voxon.ImportSessionAsync(data, mapping, newSessionId: true, cancellationToken);
        host.Adopt(session);
        return Results.Created($"/v1/sessions/{session.SessionId}", new SessionCreated(session.SessionId, Tenants.PublicUserId(tenant, owner), session.Version));
    }
}
