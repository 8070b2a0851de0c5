using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Voxon.Server.Tenancy;

/// <summary>
/// API keys in one JSON file (by default <c>keys/keys.json</c> inside the file session store), holding only SHA-256
/// hashes. The CLI writes it before the server starts and while it runs; the server rereads it when it changes.
/// </summary>
/// <remarks>Thread-safe. Writes take an exclusive lock file, so the CLI and a running server never lose each other's keys.</remarks>
public sealed class ApiKeyStore
{
    /// <summary>Prefix of every key, so a leaked key is recognisable in logs and scanners.</summary>
    public const string KeyPrefix = "vxk_";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private Dictionary<string, ApiKey> _byHash = new(StringComparer.Ordinal);
    private DateTime _loadedStamp = DateTime.MinValue;

    /// <summary>A store over the key file at <paramref name="path"/> (created on the first key).</summary>
    public ApiKeyStore(string path, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The key file.</summary>
    public string Path { get; }

    /// <summary>The key file that goes with a file session store folder.</summary>
    public static string DefaultPathFor(string storeFolder) => System.IO.Path.Combine(storeFolder, "keys", "keys.json");

    /// <summary>Creates a key for <paramref name="tenant"/>; the returned secret is the only copy.</summary>
    /// <exception cref="ArgumentException">The tenant name is invalid.</exception>
    public CreatedApiKey Create(string tenant, bool admin = false)
    {
        Tenants.Validate(tenant);
        var secret = KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var key = new ApiKey("key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)), tenant, Hash(secret), admin, _time.GetUtcNow());
        Update(keys => keys.Add(key));
        return new CreatedApiKey(key, secret);
    }

    /// <summary>The live key whose secret is <paramref name="secret"/>, or null (unknown or revoked).</summary>
    public ApiKey? Find(string? secret)
    {
        if (string.IsNullOrEmpty(secret) || !secret.StartsWith(KeyPrefix, StringComparison.Ordinal) || secret.Length > 100)
        {
            return null;
        }

        var hash = Hash(secret);
        lock (_gate)
        {
            RefreshIfChanged();
            return _byHash.TryGetValue(hash, out var key) && key.RevokedAt is null ? key : null;
        }
    }

    /// <summary>Every stored key (hashes only), or one tenant's.</summary>
    public IReadOnlyList<ApiKey> List(string? tenant = null)
    {
        lock (_gate)
        {
            RefreshIfChanged();
            return [.. _byHash.Values.Where(k => tenant is null || k.Tenant == tenant).OrderBy(k => k.CreatedAt)];
        }
    }

    /// <summary>Revokes key <paramref name="keyId"/>; false when there is no live key with that id (in <paramref name="tenant"/>, when given).</summary>
    public bool Revoke(string keyId, string? tenant = null)
    {
        var found = false;
        Update(keys =>
        {
            var index = keys.FindIndex(k => k.KeyId == keyId && k.RevokedAt is null && (tenant is null || k.Tenant == tenant));
            if (index >= 0)
            {
                keys[index] = keys[index] with { RevokedAt = _time.GetUtcNow() };
                found = true;
            }
        });
        return found;
    }

    /// <summary>Lower-case hex SHA-256 of a key.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private void Update(Action<List<ApiKey>> change)
    {
        lock (_gate)
        {
            var folder = System.IO.Path.GetDirectoryName(Path)!;
            Storage.DurableFolder.Create(folder);
            using var fileLock = AcquireLock();
            var keys = Read();
            change(keys);
            var temp = Path + ".tmp";
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(JsonSerializer.SerializeToUtf8Bytes(new KeyFile { Keys = keys }, Json));
                stream.Flush(flushToDisk: true);
            }

            // Renamed, then the rename flushed: a key created (or revoked) stays so after a power loss.
            Storage.DurableFolder.Commit(temp, Path);
            _byHash = keys.ToDictionary(k => k.Hash, StringComparer.Ordinal);
            _loadedStamp = File.GetLastWriteTimeUtc(Path);
        }
    }

    /// <summary>The key file's lock, waited for up to two seconds (a write holds it for milliseconds).</summary>
    /// <exception cref="ApiKeyStoreBusyException">Another process held it all that time; nothing was changed.</exception>
    private FileStream AcquireLock()
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(Path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (attempt < 100)
            {
                Thread.Sleep(20);
            }
            catch (IOException ex)
            {
                // The runtime's own message names only the lock file, as "being used by another process".
                throw new ApiKeyStoreBusyException(Path, ex);
            }
        }
    }

    private void RefreshIfChanged()
    {
        var stamp = File.Exists(Path) ? File.GetLastWriteTimeUtc(Path) : DateTime.MinValue;
        if (stamp != _loadedStamp)
        {
            _byHash = Read().ToDictionary(k => k.Hash, StringComparer.Ordinal);
            _loadedStamp = stamp;
        }
    }

    private List<ApiKey> Read()
    {
        if (!File.Exists(Path))
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<KeyFile>(File.ReadAllText(Path), Json)?.Keys ?? [];
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The key file {Path} is not valid JSON: {ex.Message}", ex);
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private sealed class KeyFile
    {
        public List<ApiKey> Keys { get; set; } = [];
    }
}
