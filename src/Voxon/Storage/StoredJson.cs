using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Voxon.Storage;

/// <summary>Share and template records as stored by every backend: JSON, sealed by the backend's codec.</summary>
internal static class StoredJson
{
    public static byte[] Seal<T>(SessionRecordCodec codec, T value, string context, JsonTypeInfo<T> type, SealingKey? key) =>
        codec.Seal(JsonSerializer.SerializeToUtf8Bytes(value, type), context, key);

    /// <summary>Fetches the record's key from the key ring, then parses it (<see cref="Parse"/>).</summary>
    /// <exception cref="VoxonStorageException">The record is corrupt or cannot be decrypted.</exception>
    public static async Task<T> ParseAsync<T>(SessionRecordCodec codec, byte[] stored, string context, JsonTypeInfo<T> type, string operation, CancellationToken cancellationToken = default)
    {
        await codec.PrepareAsync([stored], context, cancellationToken);
        return Parse(codec, stored, context, type, operation);
    }

    /// <exception cref="SessionCorruptException">The record is corrupt or cannot be decrypted.</exception>
    public static T Parse<T>(SessionRecordCodec codec, byte[] stored, string context, JsonTypeInfo<T> type, string operation)
    {
        var oldKey = false;
        var plaintext = codec.Open(stored, context, ref oldKey, (problem, ex) => SessionCorruptException.OfRecord(codec.Backend, operation, context, problem, ex));
        try
        {
            return JsonSerializer.Deserialize(plaintext, type) ?? throw new JsonException("null record");
        }
        catch (JsonException ex)
        {
            throw SessionCorruptException.OfRecord(codec.Backend, operation, context, ex.Message, ex);
        }
    }

    /// <summary>The share records among <paramref name="stored"/> (token hash, bytes) that can be read; each unreadable one
    /// is handed to <paramref name="skipped"/> instead of failing the listing.</summary>
    public static async Task<List<ShareRecord>> ParseSharesAsync(SessionRecordCodec codec, IEnumerable<(string Hash, byte[] Data)> stored, Action<SessionCorruptException> skipped, CancellationToken cancellationToken)
    {
        var shares = new List<ShareRecord>();
        foreach (var (hash, data) in stored)
        {
            try
            {
                shares.Add(await ParseAsync(codec, data, "share/" + hash, VoxonJsonContext.Default.ShareRecord, "list shares", cancellationToken));
            }
            catch (SessionCorruptException ex)
            {
                skipped(ex);
            }
        }

        return shares;
    }

    /// <summary>Share token hashes are 64 lower-case hex digits; anything else could address another key or file.</summary>
    public static string ValidateTokenHash(string tokenHash)
    {
        ArgumentNullException.ThrowIfNull(tokenHash);
        if (tokenHash.Length != 64 || !tokenHash.All(char.IsAsciiHexDigitLower))
        {
            throw new ArgumentException("A share token hash is 64 lower-case hex digits.", nameof(tokenHash));
        }

        return tokenHash;
    }
}
