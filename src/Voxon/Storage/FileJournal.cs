using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Voxon.Storage;

/// <summary>
/// The file backend's append-only journal: frames <c>uint32 length | 4-byte SHA-256 prefix | int64 version | payload</c>,
/// the payload being the (possibly sealed) records of one save. A frame that is cut short or fails its checksum
/// ends the journal: it is the torn tail of a save that never completed, and is ignored.
/// </summary>
internal static class FileJournal
{
    private const int HeaderSize = 16;

    public static byte[] Frame(long version, byte[] payload)
    {
        var frame = new byte[HeaderSize + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
        SHA256.HashData(payload).AsSpan(0, 4).CopyTo(frame.AsSpan(4));
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(8), version);
        payload.CopyTo(frame, HeaderSize);
        return frame;
    }

    /// <summary>The intact frames of <paramref name="journal"/> and the length they cover (the rest is a torn tail).</summary>
    public static (List<(long Version, byte[] Payload)> Frames, long ValidLength) Read(byte[] journal)
    {
        var frames = new List<(long, byte[])>();
        var offset = 0;
        Span<byte> hash = stackalloc byte[32];
        while (journal.Length - offset >= HeaderSize)
        {
            var length = BinaryPrimitives.ReadUInt32LittleEndian(journal.AsSpan(offset));
            if (length > journal.Length - offset - HeaderSize)
            {
                break;
            }

            var payload = journal.AsSpan(offset + HeaderSize, (int)length);
            SHA256.HashData(payload, hash);
            if (!hash[..4].SequenceEqual(journal.AsSpan(offset + 4, 4)))
            {
                break;
            }

            frames.Add((BinaryPrimitives.ReadInt64LittleEndian(journal.AsSpan(offset + 8)), payload.ToArray()));
            offset += HeaderSize + (int)length;
        }

        return (frames, offset);
    }

    /// <summary>Records as bytes: <c>kind | uint16 key length | key | int32 index | int32 length | payload</c> each.</summary>
    public static byte[] EncodeRecords(IReadOnlyList<SessionRecord> records)
    {
        var size = records.Sum(r => 11 + Encoding.UTF8.GetByteCount(r.Key) + r.Payload.Length);
        var buffer = new byte[size];
        var offset = 0;
        foreach (var record in records)
        {
            buffer[offset] = (byte)record.Kind;
            var keyLength = Encoding.UTF8.GetBytes(record.Key, buffer.AsSpan(offset + 3));
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(offset + 1), (ushort)keyLength);
            offset += 3 + keyLength;
            BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(offset), record.Index);
            BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(offset + 4), record.Payload.Length);
            record.Payload.CopyTo(buffer, offset + 8);
            offset += 8 + record.Payload.Length;
        }

        return buffer;
    }

    /// <exception cref="FormatException">The bytes are not a record list.</exception>
    public static List<SessionRecord> DecodeRecords(byte[] buffer)
    {
        var records = new List<SessionRecord>();
        var offset = 0;
        try
        {
            while (offset < buffer.Length)
            {
                var kind = (RecordKind)buffer[offset];
                int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(offset + 1));
                var key = Encoding.UTF8.GetString(buffer, offset + 3, keyLength);
                offset += 3 + keyLength;
                var index = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset));
                var length = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset + 4));
                records.Add(new SessionRecord(kind, key, index, buffer.AsSpan(offset + 8, length).ToArray()));
                offset += 8 + length;
            }
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException)
        {
            throw new FormatException("a journal frame's records are malformed", ex);
        }

        return records;
    }
}
