namespace Voxon.Server.Tenancy;

/// <summary>A stored API key: never the key itself, only its SHA-256 hash.</summary>
/// <param name="KeyId">Public id of the key (shown in listings, used to revoke it).</param>
/// <param name="Tenant">The tenant whose sessions the key reaches.</param>
/// <param name="Hash">Lower-case hex SHA-256 of the key.</param>
/// <param name="Admin">Whether the key may create and revoke other keys.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="RevokedAt">When it was revoked; null while it works.</param>
public sealed record ApiKey(string KeyId, string Tenant, string Hash, bool Admin, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt = null);
