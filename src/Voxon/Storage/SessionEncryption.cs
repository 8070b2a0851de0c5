using System.Security.Cryptography;
using System.Text;

namespace Voxon.Storage;

/// <summary>
/// Encryption at rest for stored sessions (the spec's <c>session_encryption_key</c> with
/// <c>session_encryption_method="AES256"</c>): every stored record becomes an AES-256-GCM envelope
/// <c>VXE1 | key id | nonce | tag | ciphertext</c>, authenticated together with the record's identity so a
/// record cannot be swapped for another. Old keys stay readable for rotation; records are rewritten with the
/// current key when next saved.
/// </summary>
/// <remarks>Thread-safe. A key is either 32 bytes in base64 (or 64 hex digits), or any other secret string,
/// from which a key is derived with SHA-256. A key's id is the first 8 hex digits of the SHA-256 of the key.</remarks>
public sealed class SessionEncryption
{
    /// <summary>The environment variable read by <see cref="FromEnvironment"/>.</summary>
    public const string KeyVariable = "VOXON_SESSION_KEY";

    /// <summary>The only method supported.</summary>
    public const string Aes256 = "AES256";

    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static ReadOnlySpan<byte> Magic => "VXE1"u8;

    private readonly byte[] _key;
    private readonly Dictionary<string, byte[]> _keys = new(StringComparer.Ordinal);

    private SessionEncryption(byte[] key, IEnumerable<byte[]> previousKeys)
    {
        _key = key;
        KeyId = IdOf(key);
        _keys[KeyId] = key;
        foreach (var previous in previousKeys)
        {
            _keys.TryAdd(IdOf(previous), previous);
        }
    }

    /// <summary>Id of the key new records are written with.</summary>
    public string KeyId { get; }

    /// <summary>Encryption with <paramref name="key"/>; <paramref name="previousKeys"/> are only used to read older records.</summary>
    /// <exception cref="ArgumentException">A key is empty.</exception>
    public static SessionEncryption FromKey(string key, params IEnumerable<string> previousKeys)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(previousKeys);
        return new SessionEncryption(DeriveKey(key), previousKeys.Where(k => !string.IsNullOrWhiteSpace(k)).Select(DeriveKey));
    }

    /// <summary>Encryption with the key in the environment variable <paramref name="variable"/>, or null when it is unset.</summary>
    public static SessionEncryption? FromEnvironment(string variable = KeyVariable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } key ? FromKey(key) : null;

    /// <summary>Whether <paramref name="stored"/> is an encryption envelope.</summary>
    internal static bool IsEnvelope(ReadOnlySpan<byte> stored) => stored.StartsWith(Magic);

    /// <summary>Id of the key that sealed <paramref name="stored"/>, or null when it is not an envelope.</summary>
    internal static string? KeyIdOf(ReadOnlySpan<byte> stored) =>
        IsEnvelope(stored) && stored.Length > Magic.Length && stored.Length >= Magic.Length + 1 + stored[Magic.Length]
            ? Encoding.ASCII.GetString(stored.Slice(Magic.Length + 1, stored[Magic.Length]))
            : null;

    /// <summary>Seals <paramref name="plaintext"/>; <paramref name="context"/> (the record's identity) is authenticated, not stored.</summary>
    internal byte[] Protect(ReadOnlySpan<byte> plaintext, string context)
    {
        var id = Encoding.ASCII.GetBytes(KeyId);
        var output = new byte[Magic.Length + 1 + id.Length + NonceSize + TagSize + plaintext.Length];
        var span = output.AsSpan();
        Magic.CopyTo(span);
        span[Magic.Length] = (byte)id.Length;
        id.CopyTo(span[(Magic.Length + 1)..]);
        var offset = Magic.Length + 1 + id.Length;
        var nonce = span.Slice(offset, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
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
            throw new CryptographicException($"the record was encrypted with key '{id}', which is not configured (current key '{KeyId}'); add it to the previous keys");
        }

        var offset = Magic.Length + 1 + id.Length;
        if (stored.Length < offset + NonceSize + TagSize)
        {
            throw new CryptographicException("the encrypted record is truncated");
        }

        var plaintext = new byte[stored.Length - offset - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        try
        {
            aes.Decrypt(stored.Slice(offset, NonceSize), stored[(offset + NonceSize + TagSize)..], stored.Slice(offset + NonceSize, TagSize), plaintext, Encoding.UTF8.GetBytes(context));
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new CryptographicException($"authentication failed with key '{id}': the record was tampered with, moved, or the key is wrong", ex);
        }

        oldKey = !ReferenceEquals(key, _key);
        return plaintext;
    }

    private static byte[] DeriveKey(string key)
    {
        var text = key.Trim();
        if (text.Length == 64 && text.All(char.IsAsciiHexDigit))
        {
            return Convert.FromHexString(text);
        }

        var buffer = new byte[32];
        if (text.Length == 44 && Convert.TryFromBase64String(text, buffer, out var written) && written == 32)
        {
            return buffer;
        }

        return SHA256.HashData(Encoding.UTF8.GetBytes("voxon-session-key:" + text));
    }

    private static string IdOf(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key))[..8];
}
