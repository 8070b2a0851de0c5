using System.Security.Cryptography;
using System.Text;

namespace Voxon.Storage;

/// <summary>
/// Encryption at rest for stored sessions (the spec's <c>session_encryption_key</c> with
/// <c>session_encryption_method="AES256"</c>): every stored record becomes an AES-256-GCM envelope
/// <c>VXE1 | key id | nonce | tag | ciphertext</c>, authenticated together with the record's identity so a
/// record cannot be swapped for another. This is the store's master key: the built-in backends encrypt each user's
/// records under a per-user data key that the master key wraps (see <see cref="SessionStorage.EraseUserAsync"/>).
/// Old keys stay readable for rotation.
/// </summary>
/// <remarks>Thread-safe. A key is either 32 bytes in base64 (or 64 hex digits), used as it is, or a passphrase, from
/// which a key is derived with PBKDF2-HMAC-SHA256 (<see cref="DefaultIterations"/> iterations) and the store's own
/// random salt, which the backend keeps in its key ring; a passphrase key therefore exists only once bound to a store
/// (<see cref="WithSalt"/>). Records written by earlier versions, which derived passphrase keys with one SHA-256, still
/// open (their key id differs) and are rewritten with the PBKDF2 key when next saved. A key's id is the first 8 hex
/// digits of the SHA-256 of the key.</remarks>
public sealed class SessionEncryption
{
    /// <summary>The environment variable read by <see cref="FromEnvironment"/>.</summary>
    public const string KeyVariable = "VOXON_SESSION_KEY";

    /// <summary>The only method supported.</summary>
    public const string Aes256 = "AES256";

    /// <summary>PBKDF2-HMAC-SHA256 iterations for passphrases in new stores (OWASP's 2023 figure); a store keeps the
    /// count it was created with, so raising it later does not orphan existing stores.</summary>
    public const int DefaultIterations = 600_000;

    private const int NonceSize = 12;

    /// <summary>Bytes of the GCM tag.</summary>
    internal const int TagSize = 16;
    private static ReadOnlySpan<byte> Magic => "VXE1"u8;

    private readonly string _currentSource;
    private readonly string[] _previousSources;
    private readonly byte[]? _key;
    private readonly Dictionary<string, byte[]> _keys = new(StringComparer.Ordinal);

    private SessionEncryption(string current, string[] previous, byte[]? salt, int iterations)
    {
        _currentSource = current;
        _previousSources = previous;
        foreach (var source in previous.Prepend(current))
        {
            var key = RawKey(source);
            if (key is null)
            {
                // Written by earlier versions: readable, never written.
                var legacy = LegacyPassphraseKey(source);
                _keys.TryAdd(IdOf(legacy), legacy);
                key = salt is null ? null : DerivePassphraseKey(source, salt, iterations);
            }

            if (key is not null)
            {
                _keys.TryAdd(IdOf(key), key);
                _key ??= ReferenceEquals(source, current) ? _keys[IdOf(key)] : null;
            }
        }

        KeyIdOrNull = _key is null ? null : IdOf(_key);
    }

    /// <summary>Id of the key new records are written with.</summary>
    /// <exception cref="InvalidOperationException">The key is a passphrase not yet bound to a store's salt.</exception>
    public string KeyId => KeyIdOrNull ?? throw new InvalidOperationException("A passphrase key exists only with its store's salt: call WithSalt (the backends do it for you).");

    /// <summary>Whether a passphrase is among the keys, so the store's salt is needed.</summary>
    public bool NeedsSalt => _previousSources.Prepend(_currentSource).Any(s => RawKey(s) is null);

    internal string? KeyIdOrNull { get; }

    /// <summary>Test hook: seal every record with the master key, as versions before the key ring did.</summary>
    internal bool WithoutKeyRing { get; set; }

    /// <summary>The key new records are written with.</summary>
    internal byte[] CurrentKey => _key ?? throw new InvalidOperationException("A passphrase key exists only with its store's salt.");

    /// <summary>Encryption with <paramref name="key"/>; <paramref name="previousKeys"/> are only used to read older records.</summary>
    /// <exception cref="ArgumentException">A key is empty.</exception>
    public static SessionEncryption FromKey(string key, params IEnumerable<string> previousKeys)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(previousKeys);
        return new SessionEncryption(key.Trim(), [.. previousKeys.Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => k.Trim())], null, 0);
    }

    /// <summary>Encryption with the key in the environment variable <paramref name="variable"/>, or null when it is unset.</summary>
    public static SessionEncryption? FromEnvironment(string variable = KeyVariable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } key ? FromKey(key) : null;

    /// <summary>The same keys with passphrases derived for the store whose salt is <paramref name="salt"/>.</summary>
    /// <exception cref="ArgumentException">The salt is shorter than 16 bytes or the iteration count is below 100,000.</exception>
    public SessionEncryption WithSalt(ReadOnlySpan<byte> salt, int iterations = DefaultIterations)
    {
        if (salt.Length < 16)
        {
            throw new ArgumentException("A store salt is at least 16 bytes.", nameof(salt));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 100_000);
        return new SessionEncryption(_currentSource, _previousSources, salt.ToArray(), iterations);
    }

    /// <summary>PBKDF2-HMAC-SHA256 of <paramref name="passphrase"/> (UTF-8) into a 32-byte key.</summary>
    internal static byte[] DerivePassphraseKey(string passphrase, ReadOnlySpan<byte> salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(passphrase), salt, iterations, HashAlgorithmName.SHA256, 32);

    /// <summary>How versions before the key ring turned a passphrase into a key (one SHA-256); only read now.</summary>
    internal static byte[] LegacyPassphraseKey(string passphrase) => SHA256.HashData(Encoding.UTF8.GetBytes("voxon-session-key:" + passphrase));

    /// <summary>Whether <paramref name="stored"/> is an encryption envelope.</summary>
    internal static bool IsEnvelope(ReadOnlySpan<byte> stored) => stored.StartsWith(Magic);

    /// <summary>Id of the key that sealed <paramref name="stored"/>, or null when it is not an envelope.</summary>
    internal static string? KeyIdOf(ReadOnlySpan<byte> stored) =>
        IsEnvelope(stored) && stored.Length > Magic.Length && stored.Length >= Magic.Length + 1 + stored[Magic.Length]
            ? Encoding.ASCII.GetString(KeyIdBytes(stored))
            : null;

    /// <summary>The key id of an envelope as the ASCII bytes it is stored as (no string made); empty when
    /// <paramref name="stored"/> is not an envelope.</summary>
    internal static ReadOnlySpan<byte> KeyIdBytes(ReadOnlySpan<byte> stored) =>
        IsEnvelope(stored) && stored.Length > Magic.Length && stored.Length >= Magic.Length + 1 + stored[Magic.Length]
            ? stored.Slice(Magic.Length + 1, stored[Magic.Length])
            : [];

    /// <summary>Whether <paramref name="keyId"/> names one of these (master) keys.</summary>
    internal bool HasKey(string keyId) => _keys.ContainsKey(keyId);

    /// <summary>Seals <paramref name="plaintext"/> with the current key; <paramref name="context"/> (the record's identity) is authenticated, not stored.</summary>
    internal byte[] Protect(ReadOnlySpan<byte> plaintext, string context) => Seal(KeyId, _key!, plaintext, context);

    /// <summary>Seals <paramref name="plaintext"/> with <paramref name="key"/>, writing <paramref name="keyId"/> into the envelope.</summary>
    internal static byte[] Seal(string keyId, byte[] key, ReadOnlySpan<byte> plaintext, string context)
    {
        var id = Encoding.ASCII.GetBytes(keyId);
        var output = new byte[Magic.Length + 1 + id.Length + NonceSize + TagSize + plaintext.Length];
        var span = output.AsSpan();
        Magic.CopyTo(span);
        span[Magic.Length] = (byte)id.Length;
        id.CopyTo(span[(Magic.Length + 1)..]);
        var offset = Magic.Length + 1 + id.Length;
        var nonce = span.Slice(offset, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, span[(offset + NonceSize + TagSize)..], span.Slice(offset + NonceSize, TagSize), Encoding.UTF8.GetBytes(context));
        return output;
    }

    /// <summary>Opens an envelope sealed by <see cref="Protect"/> with the same <paramref name="context"/>.</summary>
    /// <exception cref="CryptographicException">Not an envelope, an unknown key, or authentication failed (tampered, wrong key, moved record).</exception>
    internal byte[] Unprotect(ReadOnlySpan<byte> stored, string context, out bool oldKey)
    {
        var id = KeyIdOf(stored) ?? throw new CryptographicException("the record is not encrypted although an encryption key is configured");
        if (!_keys.TryGetValue(id, out var key))
        {
            throw new CryptographicException($"the record was encrypted with key '{id}', which is not configured (current key '{KeyIdOrNull ?? "not derived yet"}'); add it to the previous keys");
        }

        oldKey = !ReferenceEquals(key, _key);
        return Open(stored, id, key, context);
    }

    /// <summary>Opens an envelope whose key id is <paramref name="id"/> with <paramref name="key"/>.</summary>
    /// <exception cref="CryptographicException">Truncated, tampered, moved, or the wrong key.</exception>
    internal static byte[] Open(ReadOnlySpan<byte> stored, string id, byte[] key, string context)
    {
        var plaintext = new byte[PlaintextLength(stored, id.Length)];
        using var aes = new AesGcm(key, TagSize);
        Open(stored, id, aes, Encoding.UTF8.GetBytes(context), plaintext);
        return plaintext;
    }

    /// <summary>The length of the plaintext in an envelope whose key id has <paramref name="idLength"/> characters.</summary>
    /// <exception cref="CryptographicException">The envelope is truncated.</exception>
    internal static int PlaintextLength(ReadOnlySpan<byte> stored, int idLength) =>
        stored.Length - Magic.Length - 1 - idLength - NonceSize - TagSize is var length and >= 0 ? length : throw new CryptographicException("the encrypted record is truncated");

    /// <summary>Opens an envelope whose key id is <paramref name="id"/> into <paramref name="plaintext"/>
    /// (<see cref="PlaintextLength"/> bytes) with a cipher of that key; <paramref name="context"/> is UTF-8.</summary>
    /// <exception cref="CryptographicException">Truncated, tampered, moved, or the wrong key.</exception>
    internal static void Open(ReadOnlySpan<byte> stored, ReadOnlySpan<char> id, AesGcm aes, ReadOnlySpan<byte> context, Span<byte> plaintext)
    {
        var offset = Magic.Length + 1 + id.Length;
        if (plaintext.Length != PlaintextLength(stored, id.Length))
        {
            throw new ArgumentException("The plaintext buffer does not fit the envelope.", nameof(plaintext));
        }

        try
        {
            aes.Decrypt(stored.Slice(offset, NonceSize), stored[(offset + NonceSize + TagSize)..], stored.Slice(offset + NonceSize, TagSize), plaintext, context);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new CryptographicException($"authentication failed with key '{id}': the record was tampered with, moved, or the key is wrong", ex);
        }
    }

    /// <summary>The key a 64-hex-digit or 32-byte base64 string stands for, or null for a passphrase.</summary>
    private static byte[]? RawKey(string text)
    {
        if (text.Length == 64 && text.All(char.IsAsciiHexDigit))
        {
            return Convert.FromHexString(text);
        }

        var buffer = new byte[32];
        return text.Length == 44 && Convert.TryFromBase64String(text, buffer, out var written) && written == 32 ? buffer : null;
    }

    private static string IdOf(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key))[..8];
}
