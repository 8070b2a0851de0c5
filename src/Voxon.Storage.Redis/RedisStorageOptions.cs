namespace Voxon.Storage.Redis;

/// <summary>Settings of the Redis backend.</summary>
public sealed class RedisStorageOptions
{
    /// <summary>A <c>redis://[user:password@]host:port[/db]</c> URL (<c>rediss://</c> for TLS) or a StackExchange.Redis
    /// configuration string (<c>host:port,password=...</c>). Required.</summary>
    public string Configuration { get; set; } = string.Empty;

    /// <summary>Prefix of every key, so several applications can share a server. Default <c>voxon:</c>. No braces: the
    /// user's id in braces after it is the hash tag that keeps a user's keys in one cluster slot.</summary>
    public string KeyPrefix { get; set; } = "voxon:";

    /// <summary>When set, a session not saved for this long expires (every save renews it). Default none.</summary>
    public TimeSpan? IdleTtl { get; set; }

    /// <summary>Encryption of stored records; null stores them in plaintext.</summary>
    public SessionEncryption? Encryption { get; set; }
}
