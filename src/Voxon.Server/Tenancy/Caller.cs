namespace Voxon.Server.Tenancy;

/// <summary>The authenticated key of the current request.</summary>
internal static class Caller
{
    private const string ItemKey = "voxon.api_key";

    public static void Set(HttpContext context, ApiKey key) => context.Items[ItemKey] = key;

    public static ApiKey? Find(HttpContext context) => context.Items.TryGetValue(ItemKey, out var key) ? key as ApiKey : null;

    /// <summary>The caller's key; the middleware guarantees one on every authenticated route.</summary>
    public static ApiKey Key(this HttpContext context) =>
        Find(context) ?? throw new InvalidOperationException("No API key on an authenticated route.");

    public static string Tenant(this HttpContext context) => context.Key().Tenant;
}
