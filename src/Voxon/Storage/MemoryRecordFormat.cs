using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using Voxon.Memory;
using Voxon.Memory.Search;

namespace Voxon.Storage;

/// <summary>
/// How a memory entry is stored as a record (PostgreSQL rows, Redis fields, file snapshot and journal): binary, so a
/// load copies fields instead of parsing JSON. Layout, little-endian:
/// <c>int32 -2 | int32 n | n float32 | Id | Content | Category | float64 importance | created | occurred | updated |
/// byte flags (1 expiry, 2 sensitive) | [expires] | byte source | Context | EmbeddingModel | Scope | ConversationId |
/// Slot | SupersededBy | Author | int32 token count</c>; a string is <c>int32 byte length (-1 for null) | UTF-8</c>, a time
/// <c>int64 UTC ticks | int16 offset minutes</c>.
/// Records written before it (<c>int32 n &gt;= 0 | n float32 | JSON</c>) are still read; the next save of a memory,
/// or a rewrite of the store, writes it in this format.
/// </summary>
/// <remarks>Every property of <see cref="MemoryEntry"/> except <see cref="MemoryEntry.Transient"/> (never stored) is
/// written: a property added to the entry must be added here (a test checks that a round trip keeps them all).</remarks>
internal static class MemoryRecordFormat
{
    /// <summary>The first int32 of a binary record; a legacy record starts with its embedding length (never negative).</summary>
    private const int BinaryMarker = -2;

    private const byte HasExpiry = 1;
    private const byte IsSensitive = 2;

    public static byte[] Encode(MemoryEntry entry)
    {
        // The record keeps the source in one byte, and a load refuses an unknown one: refuse it here, before it is stored.
        if (!Enum.IsDefined(entry.Source))
        {
            throw new ArgumentException($"memory '{entry.Id}' has an unknown source {(int)entry.Source}", nameof(entry));
        }

        return FieldWriter.Record((entry, EmbeddingCodec.ToBytes(entry.Embedding.Span)), Write);
    }

    private static void Write(ref FieldWriter writer, (MemoryEntry Entry, byte[] Vector) record)
    {
        var (entry, vector) = record;
        writer.Int32(BinaryMarker);
        writer.Int32(vector.Length / sizeof(float));
        writer.Bytes(vector);
        writer.String(entry.Id);
        writer.String(entry.Content);
        writer.String(entry.Category);
        writer.Double(entry.Importance);
        writer.Time(entry.CreatedAt);
        writer.Time(entry.OccurredAt);
        writer.Time(entry.UpdatedAt);
        writer.Byte((byte)((entry.ExpiresAt is null ? 0 : HasExpiry) | (entry.Sensitive ? IsSensitive : 0)));
        if (entry.ExpiresAt is { } expires)
        {
            writer.Time(expires);
        }

        writer.Byte((byte)entry.Source);
        foreach (var text in (ReadOnlySpan<string?>)[entry.Context, entry.EmbeddingModel, entry.Scope, entry.ConversationId, entry.Slot, entry.SupersededBy, entry.Author])
        {
            writer.String(text);
        }

        writer.Int32(entry.TokenCount);
    }

    /// <summary>The number of float32 values of a record's embedding (either format), to size one block for the vectors
    /// of many records; 0 when the record is too short for the length it gives (<see cref="Decode"/> reports it).</summary>
    public static int EmbeddingLength(ReadOnlySpan<byte> payload) => Embedding(payload).Floats;

    /// <summary>Where a record's embedding (either format) starts in it, and its number of float32 values; 0 values when
    /// it has none or the record is too short for the length it gives (<see cref="Decode"/> reports it).</summary>
    public static (int Start, int Floats) Embedding(ReadOnlySpan<byte> payload)
    {
        var binary = payload.Length >= 8 && BinaryPrimitives.ReadInt32LittleEndian(payload) == BinaryMarker;
        var start = binary ? 4 : 0;
        var count = payload.Length >= start + 4 ? BinaryPrimitives.ReadInt32LittleEndian(payload[start..]) : 0;
        return count > 0 && count <= (payload.Length - start - 4) / sizeof(float) ? (start + 4, count) : (0, 0);
    }

    /// <summary>Reads a record in either format.</summary>
    /// <param name="payload">The record.</param>
    /// <param name="into">Where to put the embedding when it is exactly this long (a slice of a block shared by the
    /// entries of one load: <see cref="EmbeddingLength"/>), or the embedding itself, a view of the record's own bytes
    /// that the entry keeps (<see cref="StoredVectors"/>); else it gets an array of its own.</param>
    /// <param name="pinned">Allocate the embedding on the pinned object heap, which collections never copy. For large
    /// loads: their vectors live as long as the session and are most of its bytes, and allocated as usual every gen0
    /// and gen1 collection during the load copied them (measured at 10,000 memories: 16-40 ms of GC pauses per load,
    /// 3-5 ms pinned). Small loads fit in gen0, where pinned vectors only brought gen2 collections forward.</param>
    /// <exception cref="JsonException">The record is malformed (the error every record decoder reports).</exception>
    public static MemoryEntry Decode(ReadOnlySpan<byte> payload, bool pinned = false, Memory<float> into = default)
    {
        var first = payload.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(payload) : int.MinValue;
        try
        {
            return first == BinaryMarker ? DecodeBinary(payload[4..], pinned, into) : DecodeLegacy(payload, first, into);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or IndexOutOfRangeException)
        {
            throw new JsonException("the memory record is malformed: " + ex.Message, ex);
        }
    }

    // Optimized from the first call: a process's first loads (a call waiting to start) would otherwise decode thousands
    // of records with unoptimized code until tiered compilation catches up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static MemoryEntry DecodeBinary(ReadOnlySpan<byte> payload, bool pinned, Memory<float> into)
    {
        var reader = new FieldReader(payload);
        var count = reader.Int32();
        var vector = count is >= 0 and <= (int.MaxValue / 4) ? Vector(reader.Bytes(count * 4), pinned, into) : throw new FormatException($"embedding length {count}");
        var id = reader.Required("id");
        var content = reader.Required("content");
        var category = reader.Required("category", recurring: true);
        var importance = reader.Double();
        var created = reader.Time();
        var occurred = reader.Time();
        var updated = reader.Time();
        var flags = reader.Byte();
        DateTimeOffset? expires = (flags & HasExpiry) != 0 ? reader.Time() : null;
        var source = (MemorySource)reader.Byte();
        if (!Enum.IsDefined(source) || (flags & ~(HasExpiry | IsSensitive)) != 0)
        {
            throw new FormatException($"source {(int)source} or flags {flags} are unknown");
        }

        var entry = new MemoryEntry
        {
            Id = id,
            Content = content,
            Category = category,
            Importance = importance,
            CreatedAt = created,
            OccurredAt = occurred,
            UpdatedAt = updated,
            ExpiresAt = expires,
            Sensitive = (flags & IsSensitive) != 0,
            Source = source,
            Context = reader.String(),
            EmbeddingModel = reader.Recurring(),
            Scope = reader.Recurring(),
            ConversationId = reader.Recurring(),
            Slot = reader.Recurring(),
            SupersededBy = reader.String(),
            Author = reader.Recurring(),
            TokenCount = reader.Int32(),
            Embedding = vector,
        };
        return reader.AtEnd ? entry : throw new FormatException("bytes after the last field");
    }

    private static ReadOnlyMemory<float> Vector(ReadOnlySpan<byte> bytes, bool pinned, Memory<float> into)
    {
        if (bytes.Length == into.Length * sizeof(float))
        {
            var target = into.Span;
            if (Unsafe.AreSame(ref MemoryMarshal.GetReference(bytes), ref Unsafe.As<float, byte>(ref MemoryMarshal.GetReference(target))))
            {
                return into; // a view of these very bytes: nothing to copy
            }

            EmbeddingCodec.CopyFromBytes(bytes, target);
            return into;
        }

        return EmbeddingCodec.FromBytes(bytes, pinned);
    }

    private static MemoryEntry DecodeLegacy(ReadOnlySpan<byte> payload, int count, Memory<float> into)
    {
        if (count < 0 || 4 + ((long)count * 4) > payload.Length)
        {
            throw new JsonException("the memory record's embedding length is invalid");
        }

        var entry = JsonSerializer.Deserialize(payload[(4 + (count * 4))..], VoxonJsonContext.Default.MemoryEntry) ?? throw new JsonException("null memory entry");
        return entry with { Embedding = Vector(payload.Slice(4, count * 4), false, into) };
    }

    /// <summary>The legacy layout, for tests of stores written before the binary one.</summary>
    internal static byte[] EncodeLegacy(MemoryEntry entry)
    {
        var vector = EmbeddingCodec.ToBytes(entry.Embedding.Span);
        var json = JsonSerializer.SerializeToUtf8Bytes(entry with { Embedding = default }, VoxonJsonContext.Default.MemoryEntry);
        var payload = new byte[4 + vector.Length + json.Length];
        BinaryPrimitives.WriteInt32LittleEndian(payload, vector.Length / 4);
        vector.CopyTo(payload, 4);
        json.CopyTo(payload, 4 + vector.Length);
        return payload;
    }
}
