using Voxon.Storage;

namespace Voxon.Server.Tenancy;

/// <summary>
/// Tenant ownership lives in the data itself: a tenant's user <c>alice</c> is stored as user <c>acme.alice</c>. Every
/// backend then keeps ownership with the session (no side index to lose or to fall out of step), listing by user stays
/// one storage query, and the library's per-user features (shares, erasure) stay per tenant.
/// </summary>
public static class Tenants
{
    /// <summary>Longest tenant name; the rest of the 128-character id is left to the user id.</summary>
    public const int MaxTenantLength = 40;

    /// <summary>Throws when <paramref name="tenant"/> is not a valid tenant name (letters, digits, '-', '_').</summary>
    /// <exception cref="ArgumentException">The name is empty, too long or has another character.</exception>
    public static string Validate(string? tenant)
    {
        if (string.IsNullOrEmpty(tenant) || tenant.Length > MaxTenantLength || !tenant.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new ArgumentException($"Invalid tenant: it must be 1 to {MaxTenantLength} letters, digits, '-' or '_'.", nameof(tenant));
        }

        return tenant;
    }

    /// <summary>The stored user id of <paramref name="tenant"/>'s user <paramref name="userId"/>.</summary>
    /// <param name="tenant">The caller's tenant.</param>
    /// <param name="userId">The id as the tenant gives it.</param>
    /// <param name="kind">What the id is, for the error (the field that carried it).</param>
    /// <exception cref="ArgumentException">The user id breaks the id rules or is too long with the tenant prefix.</exception>
    public static string StoredUserId(string tenant, string? userId, string kind = "user id")
    {
        SessionIds.Validate(userId, kind);
        return SessionIds.Validate(tenant + "." + userId, kind);
    }

    /// <summary>Whether a stored user id belongs to <paramref name="tenant"/>.</summary>
    public static bool Owns(string tenant, string storedUserId) =>
        storedUserId.Length > tenant.Length + 1 && storedUserId[tenant.Length] == '.' && storedUserId.StartsWith(tenant, StringComparison.Ordinal);

    /// <summary>The user id as the tenant knows it (the stored id without the tenant prefix).</summary>
    public static string PublicUserId(string tenant, string storedUserId) =>
        Owns(tenant, storedUserId) ? storedUserId[(tenant.Length + 1)..] : storedUserId;
}
