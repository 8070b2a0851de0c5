using StackExchange.Redis;

namespace Voxon.Storage.Redis;

/// <summary>The Redis backend (<c>session_storage="redis"</c>): creation and configuration.</summary>
public static class RedisStorage
{
    /// <summary>Selects Redis storage at <paramref name="url"/> (<c>redis://host:port</c> or a StackExchange.Redis
    /// configuration string), like <c>SessionStorage = "redis"</c> with <c>SessionRedisUrl</c>.</summary>
    public static VoxonOptions UseRedis(this VoxonOptions options, string url)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        Register();
        options.SessionStorage = "redis";
        options.SessionRedisUrl = url;
        return options;
    }

    /// <summary>A Redis backend; it connects on first use. Dispose it to close the connection.</summary>
    /// <remarks>Keys of one user share the user's hash tag, so Redis Cluster works as well as one server (list the nodes
    /// in the configuration string: <c>host1:port1,host2:port2,...</c>). A store written by an earlier version is moved
    /// to this key layout in place on first use (<see cref="RedisStorageOptions.KeyPrefix"/> says where).</remarks>
    /// <exception cref="ArgumentException">The configuration or key prefix is invalid.</exception>
    public static SessionStorage Create(RedisStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.KeyPrefix);
        if (options.KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            throw new ArgumentException("KeyPrefix must not contain '{' or '}': Redis Cluster would take the hash tag from it.", nameof(options));
        }

        if (options.IdleTtl is { } ttl && ttl <= TimeSpan.Zero)
        {
            throw new ArgumentException("IdleTtl must be positive.", nameof(options));
        }

        return new RedisSessionStorage(Parse(options.Configuration), options.KeyPrefix, options.IdleTtl, options.Encryption);
    }

    /// <summary>Registers <c>redis</c> with <see cref="SessionStorageProviders"/> (called for you by <see cref="UseRedis"/>
    /// and when the options name <c>redis</c> with this package referenced).</summary>
    public static void Register() =>
        SessionStorageProviders.Register("redis", options => Create(new RedisStorageOptions
        {
            Configuration = options.SessionRedisUrl ?? string.Empty,
            Encryption = options.CreateEncryption(),
        }));

    /// <summary>Client configuration from a URL or a configuration string.</summary>
    /// <exception cref="ArgumentException">It is malformed (the message does not repeat it: it may hold a password).</exception>
    internal static ConfigurationOptions Parse(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        ConfigurationOptions options;
        if (value.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            // The messages never repeat the URL: it may hold a password.
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            {
                throw new ArgumentException("The Redis URL is malformed: expected redis://user:password@host:port/database, with a numeric port and special characters in the user and password percent-encoded.", nameof(value));
            }

            options = new ConfigurationOptions { Ssl = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase) };
            options.EndPoints.Add(uri.Host, uri.IsDefaultPort || uri.Port <= 0 ? 6379 : uri.Port);
            if (uri.UserInfo.Length > 0)
            {
                var parts = uri.UserInfo.Split(':', 2);
                options.User = parts.Length > 1 && parts[0].Length > 0 ? Uri.UnescapeDataString(parts[0]) : null;
                options.Password = Uri.UnescapeDataString(parts.Length > 1 ? parts[1] : parts[0]);
            }

            // A database the URL names but this cannot read would silently put sessions in database 0.
            if (uri.AbsolutePath.Trim('/') is { Length: > 0 } database)
            {
                options.DefaultDatabase = int.TryParse(database, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var db)
                    ? db
                    : throw new ArgumentException($"The Redis URL's database must be a number (redis://host:port/0), got '{database}'.", nameof(value));
            }
        }
        else
        {
            options = ConfigurationOptions.Parse(value);
        }

        // Fail fast and clearly when the server is down; the storage retries transient failures itself.
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 3000);
        options.ConnectRetry = 1;
        return options;
    }
}
