namespace Voxon.Server.Tenancy;

/// <summary>A key just created: <see cref="Secret"/> is shown this once and never stored.</summary>
/// <param name="Key">What is stored about it.</param>
/// <param name="Secret">The key to send as <c>Authorization: Bearer ...</c>.</param>
public sealed record CreatedApiKey(ApiKey Key, string Secret);
