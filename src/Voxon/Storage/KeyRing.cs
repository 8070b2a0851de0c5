using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Voxon.Storage;

/// <summary>
/// A store's key ring (crypto-shredding): the master key (<see cref="SessionEncryption"/>, bound to the store's KDF
/// salt) wraps one random data key per user, and each user's records are sealed with that user's data key. Destroying
/// the wrapped data key makes every copy of the user's records unreadable, backups included. Rotating the master key
/// rewraps the data keys and leaves the data as it is.
/// </summary>
/// <remarks>Thread-safe. Unwrapped data keys are cached for <see cref="CacheLifetime"/>: an erasure made by another
/// process stops this one reading the erased user's records within that time (at once in the erasing process). The
/// ciphers made for a data key (<see cref="GcmCiphers"/>) are cached with it and disposed when it leaves the cache.</remarks>
internal sealed class KeyRing(SessionEncryption master, KeyRingStore store, string backend, TimeProvider? time = null)
{
    /// <summary>Name of the entry holding the store's KDF parameters.</summary>
    public const string StoreEntry = "store";

    private const string UserEntryPrefix = "user.";
    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>How long an unwrapped data key is used before the ring is read again.</summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, (GcmCiphers Key, long FetchedAt)> _dataKeys = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly SemaphoreSlim _initGate = new(1, 1);
    private volatile SessionEncryption? _bound;
    private byte[] _idKey = [];

    /// <summary>The master key bound to the store's salt, once <see cref="MasterAsync"/> has run; else null.</summary>
    public SessionEncryption? BoundMaster => _bound;

    /// <summary>The place the ring lives.</summary>
    public KeyRingStore Store => store;

    /// <summary>The master key bound to the store's salt (created with the store's first encrypted write).</summary>
    public async ValueTask<SessionEncryption> MasterAsync(CancellationToken cancellationToken = default)
    {
        if (_bound is { } bound)
        {
            return bound;
        }

        await _initGate.WaitAsync(cancellationToken);
        try
        {
            if (_bound is null)
            {
                var fresh = new KeyRingParameters { Salt = RandomNumberGenerator.GetBytes(32), Iterations = SessionEncryption.DefaultIterations };
                var stored = await store.GetOrAddAsync(StoreEntry, JsonSerializer.SerializeToUtf8Bytes(fresh, VoxonJsonContext.Default.KeyRingParameters), cancellationToken);
                KeyRingParameters parameters;
                try
                {
                    parameters = JsonSerializer.Deserialize(stored, VoxonJsonContext.Default.KeyRingParameters) ?? throw new JsonException("null");
                }
                catch (JsonException ex)
                {
                    throw new VoxonStorageException(backend, "open key ring", null, $"the key ring's store entry is corrupt: {ex.Message}", false, ex);
                }

                if (parameters.Kdf != KeyRingParameters.Pbkdf2Sha256)
                {
                    throw new VoxonStorageException(backend, "open key ring", null, $"the key ring uses KDF '{parameters.Kdf}', which this version does not know");
                }

                _idKey = SHA256.HashData([.. "voxon-key-id:"u8, .. parameters.Salt]);
                _bound = master.NeedsSalt ? master.WithSalt(parameters.Salt, parameters.Iterations) : master;
            }

            return _bound!;
        }
        finally
        {
            _initGate.Release();
        }
    }

    /// <summary>Id of <paramref name="userId"/>'s data key: a keyed hash, so envelopes and the ring do not show user ids.</summary>
    public async ValueTask<string> UserKeyIdAsync(string userId, CancellationToken cancellationToken = default)
    {
        await MasterAsync(cancellationToken);
        return "u" + Convert.ToHexStringLower(HMACSHA256.HashData(_idKey, Encoding.UTF8.GetBytes(userId)))[..16];
    }

    /// <summary>Whether <paramref name="keyId"/> names a data key (not a master key).</summary>
    /// <remarks>The id is read from an envelope before anything authenticates it: a damaged one must not reach the
    /// ring's store (which refuses names it could not hold) but fail as a record that does not decrypt.</remarks>
    public static bool IsDataKeyId(ReadOnlySpan<char> keyId) => keyId.Length == 17 && keyId[0] == 'u' && !keyId[1..].ContainsAnyExcept(LowerHex);

    /// <summary><paramref name="userId"/>'s data key, created and stored (wrapped) on first use.</summary>
    public async ValueTask<(string Id, byte[] Key)> UserKeyAsync(string userId, CancellationToken cancellationToken = default)
    {
        var id = await UserKeyIdAsync(userId, cancellationToken);
        if (await DataKeyAsync(id, cancellationToken) is { } existing)
        {
            return (id, existing);
        }

        var master = await MasterAsync(cancellationToken);
        var stored = await store.GetOrAddAsync(UserEntryPrefix + id, master.Protect(RandomNumberGenerator.GetBytes(32), Context(id)), cancellationToken);
        return (id, Cache(id, Unwrap(master, id, stored, out _)));
    }

    /// <summary>The data key <paramref name="keyId"/> from the cache or the ring; null when it was destroyed. A key found
    /// wrapped by an older master key is rewrapped with the current one.</summary>
    public async ValueTask<byte[]?> DataKeyAsync(string keyId, CancellationToken cancellationToken = default)
    {
        if (CachedDataKey(keyId) is { } cached)
        {
            return cached;
        }

        var master = await MasterAsync(cancellationToken);
        if (await store.GetAsync(UserEntryPrefix + keyId, cancellationToken) is not { } wrapped)
        {
            Forget(keyId); // destroyed by another process: the copy fetched before must not open records any more
            return null;
        }

        var key = Unwrap(master, keyId, wrapped, out var oldMaster);
        if (oldMaster)
        {
            await store.SetAsync(UserEntryPrefix + keyId, master.Protect(key, Context(keyId)), cancellationToken);
        }

        return Cache(keyId, key);
    }

    /// <summary>The data key <paramref name="keyId"/> with its ciphers, as last fetched by <see cref="DataKeyAsync"/>
    /// (call that first), or null when it was not fetched or was found destroyed.</summary>
    public GcmCiphers? FetchedDataKey(ReadOnlySpan<char> keyId) => _dataKeys.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(keyId, out var entry) ? entry.Key : null;

    private byte[]? CachedDataKey(string keyId) =>
        _dataKeys.TryGetValue(keyId, out var entry) && _time.GetElapsedTime(entry.FetchedAt) < CacheLifetime ? entry.Key.Key : null;

    /// <summary>Destroys <paramref name="userId"/>'s wrapped data key; false when there was none.</summary>
    public async Task<bool> DestroyUserKeyAsync(string userId, CancellationToken cancellationToken = default)
    {
        var id = await UserKeyIdAsync(userId, cancellationToken);
        Forget(id);
        return await store.DeleteAsync(UserEntryPrefix + id, cancellationToken);
    }

    /// <summary>Rewraps every data key with the current master key; the data stays as it is. Returns how many were rewrapped.</summary>
    public async Task<int> RewrapAsync(CancellationToken cancellationToken = default)
    {
        var master = await MasterAsync(cancellationToken);
        var count = 0;
        foreach (var name in await store.ListAsync(UserEntryPrefix, cancellationToken))
        {
            var id = name[UserEntryPrefix.Length..];
            if (await store.GetAsync(name, cancellationToken) is not { } wrapped)
            {
                continue; // erased meanwhile
            }

            var key = Unwrap(master, id, wrapped, out var oldMaster);
            if (oldMaster)
            {
                await store.SetAsync(name, master.Protect(key, Context(id)), cancellationToken);
                count++;
            }
        }

        return count;
    }

    /// <exception cref="CryptographicException">The master key that wrapped it is not configured, or the entry was tampered with.</exception>
    private static byte[] Unwrap(SessionEncryption master, string id, byte[] wrapped, out bool oldMaster)
    {
        try
        {
            return master.Unprotect(wrapped, Context(id), out oldMaster);
        }
        catch (CryptographicException ex)
        {
            throw new CryptographicException($"data key '{id}' in the key ring cannot be unwrapped: {ex.Message}", ex);
        }
    }

    private byte[] Cache(string keyId, byte[] key)
    {
        var replaced = default((GcmCiphers Key, long FetchedAt));
        _dataKeys.AddOrUpdate(keyId, (new GcmCiphers(key), _time.GetTimestamp()), (_, old) =>
        {
            replaced = old;
            return (new GcmCiphers(key), _time.GetTimestamp());
        });
        replaced.Key?.Dispose();
        return key;
    }

    private void Forget(string keyId)
    {
        if (_dataKeys.TryRemove(keyId, out var entry))
        {
            entry.Key.Dispose();
        }
    }

    private static string Context(string keyId) => "keyring/" + keyId;
}

/// <summary>The store's KDF parameters, kept in the key ring's <c>store</c> entry.</summary>
internal sealed class KeyRingParameters
{
    public const string Pbkdf2Sha256 = "pbkdf2-sha256";

    public string Kdf { get; set; } = Pbkdf2Sha256;

    public int Iterations { get; set; }

    public byte[] Salt { get; set; } = [];
}
