using Voxon.Server.Tenancy;

namespace Voxon.Server.Api;

/// <summary><c>/v1/keys</c>: an admin key creates, lists and revokes keys; any key can see which key and tenant it is.</summary>
internal static class KeyEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        var keys = v1.MapGroup("/keys").WithTags("Keys");
        keys.MapGet("/me", (HttpContext http) => View(http.Key())).WithName("WhoAmI");
        keys.MapPost("/", Create).WithName("CreateKey");
        keys.MapGet("/", (HttpContext http, ApiKeyStore store) => { RequireAdmin(http); return store.List().Select(View).ToList(); }).WithName("ListKeys");
        keys.MapDelete("/{keyId}", (string keyId, HttpContext http, ApiKeyStore store) =>
        {
            RequireAdmin(http);
            return store.Revoke(keyId) ? Results.NoContent() : throw new KeyNotFoundException($"No live key '{keyId}'.");
        }).WithName("RevokeKey");
    }

    private static IResult Create(CreateKeyRequest body, HttpContext http, ApiKeyStore store)
    {
        RequireAdmin(http);
        var created = store.Create(body.Tenant!, body.Admin ?? false);
        return Results.Created($"/v1/keys/{created.Key.KeyId}", new KeyCreated(created.Key.KeyId, created.Key.Tenant, created.Key.Admin, created.Secret));
    }

    private static void RequireAdmin(HttpContext http)
    {
        if (!http.Key().Admin)
        {
            throw new UnauthorizedAccessException("Managing keys needs an admin key (voxon keys create --tenant T --admin).");
        }
    }

    private static KeyView View(ApiKey key) => new(key.KeyId, key.Tenant, key.Admin, key.CreatedAt, key.RevokedAt);
}
