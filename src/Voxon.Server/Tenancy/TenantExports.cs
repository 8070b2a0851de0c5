using System.Text.Json;
using Voxon.Migration;
using Voxon.Storage;

namespace Voxon.Server.Tenancy;

/// <summary>
/// Exports as a tenant knows its users: going out, user ids lose the tenant prefix (an export names no tenant); coming
/// in, every user id of the export becomes a user of the importing tenant, so a copy in another tenant is wholly its own.
/// </summary>
internal static class TenantExports
{
    /// <summary><paramref name="export"/> with the tenant's user ids (owner, note authors, shares) as the tenant knows them.</summary>
    public static SessionExport ForTenant(string tenant, SessionExport export)
    {
        // The export was just made from the live session: only re-signed here, not validated as an import would be.
        using var json = JsonDocument.Parse(export.Utf8);
        var payload = json.RootElement.GetProperty("payload").Deserialize(MigrationJsonContext.Default.SessionExportPayload)!;
        SessionImporter.Remap(payload, UserIds(payload).Where(u => Tenants.Owns(tenant, u)).ToDictionary(u => u, u => Tenants.PublicUserId(tenant, u)));
        return SessionExport.Create(payload.Session, payload.Shares, export.ExportedAt);
    }

    /// <summary>A memory export (<see cref="Sessions.Session.ExportMemory"/>) with user ids as the tenant knows them.</summary>
    public static string MemoryForTenant(string tenant, string json)
    {
        var document = JsonSerializer.Deserialize(json, VoxonJsonContext.Default.MemoryExportDocument)!;
        document.UserId = Tenants.PublicUserId(tenant, document.UserId);
        document.Entries = [.. document.Entries.Select(e => e.Author is { } author ? e with { Author = Tenants.PublicUserId(tenant, author) } : e)];
        return JsonSerializer.Serialize(document, VoxonJsonContext.Default.MemoryExportDocument);
    }

    /// <summary>The user id mapping that imports <paramref name="payload"/> into <paramref name="tenant"/>: each user id
    /// becomes that tenant's user of the same name (an export made before ids went out without the prefix carries the
    /// caller's own prefix, which is dropped first); the owner becomes <paramref name="owner"/> when one is given.</summary>
    /// <exception cref="ArgumentException">An id is too long once it carries the tenant.</exception>
    public static Dictionary<string, string> IntoTenant(string tenant, SessionExportPayload payload, string? owner)
    {
        var mapping = UserIds(payload).ToDictionary(u => u, u => Tenants.StoredUserId(tenant, Tenants.PublicUserId(tenant, u)), StringComparer.Ordinal);
        if (owner is not null)
        {
            mapping[payload.Session.UserId] = Tenants.StoredUserId(tenant, owner);
        }

        return mapping;
    }

    /// <summary>Every user id an export holds: the ones <see cref="SessionImporter.Remap"/> rewrites.</summary>
    private static HashSet<string> UserIds(SessionExportPayload payload) =>
    [
        payload.Session.UserId,
        .. payload.Session.Memory.Entries.Select(e => e.Author).OfType<string>(),
        .. payload.Shares.SelectMany(s => new[] { s.OwnerUserId, s.SharedWithUserId }),
    ];
}
