namespace Voxon.Server.Hosting;

/// <summary>How the server stores sessions and keys, and how much one key may ask of it.</summary>
public sealed class VoxonServerOptions
{
    /// <summary>Where sessions live: a folder (file storage, default <c>./sessions</c>), or a <c>postgresql://</c> or
    /// <c>redis://</c> URL.</summary>
    public string Store { get; set; } = "./sessions";

    /// <summary>The API key file; by default <c>keys/keys.json</c> in the store folder, or <c>./voxon-keys.json</c>
    /// when the store is a database.</summary>
    public string? KeysPath { get; set; }

    /// <summary>Largest accepted request body, in bytes (default 1 MiB); larger bodies get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Requests one key may make per <see cref="RateLimitWindow"/> (default 600); more get 429.</summary>
    public int RateLimitPermits { get; set; } = 600;

    /// <summary>The rate limit's window (default one minute).</summary>
    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Live sessions kept in memory between requests (default 1,000); the least recently used are dropped past it.</summary>
    public int MaxLiveSessions { get; set; } = 1_000;

    /// <summary>Changes the library options the server builds (model, embedding generator, time...).</summary>
    public Action<VoxonOptions>? ConfigureVoxon { get; set; }

    /// <summary>Whether <see cref="Store"/> names a database rather than a folder.</summary>
    public bool StoreIsUrl => Store.Contains("://", StringComparison.Ordinal);

    /// <summary>The key file in force.</summary>
    public string ResolvedKeysPath => KeysPath ?? (StoreIsUrl ? "./voxon-keys.json" : Tenancy.ApiKeyStore.DefaultPathFor(Store));

    /// <summary>The library options for <see cref="Store"/>.</summary>
    /// <exception cref="ArgumentException">The URL's scheme is neither PostgreSQL nor Redis.</exception>
    public VoxonOptions CreateVoxonOptions()
    {
        var options = new VoxonOptions();
        if (!StoreIsUrl)
        {
            options.SessionStoragePath = Store;
        }
        else if (Store.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || Store.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            options.SessionStorage = "database";
            options.SessionDatabaseUrl = Store;
        }
        else if (Store.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || Store.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            options.SessionStorage = "redis";
            options.SessionRedisUrl = Store;
        }
        else
        {
            throw new ArgumentException($"The store '{Store}' is neither a folder nor a postgresql:// or redis:// URL.", nameof(Store));
        }

        ConfigureVoxon?.Invoke(options);
        return options;
    }
}
