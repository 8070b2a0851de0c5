using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace Voxon.Storage;

/// <summary>
/// The file backend's append-only journal: frames <c>uint32 length | 4-byte SHA-256 prefix | int64 version | payload</c>,
/// the payload being the (possibly sealed) records of one save. Only a torn tail may be ignored: the last frame of the
/// file, cut short by a crash during its append (it runs past the end of the file, fails its checksum as the file's
/// last bytes, or the file ends in zeros from it on). Whether that frame was acknowledged is for the caller to check
/// against the acknowledged version; a damaged frame with data after it is corruption.
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

    /// <summary>The intact frames of <paramref name="journal"/> (with their offsets), the length they cover, and the
    /// damage found after them: null when the rest is empty or a torn tail, else the offset and what is wrong. Frame
    /// payloads are slices of <paramref name="journal"/>, not copies.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (List<JournalFrame> Frames, long ValidLength, (long Offset, string Problem)? Damage) Read(ReadOnlyMemory<byte> journal)
    {
        var frames = new List<JournalFrame>();
        var bytes = journal.Span;
        var offset = 0;
        Span<byte> hash = stackalloc byte[32];
        while (offset < bytes.Length)
        {
            var remaining = bytes.Length - offset;
            if (remaining < HeaderSize || IsZero(bytes[offset..]))
            {
                break; // a header cut short, or space the file system allocated but the crash never filled
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]);
            if (length > remaining - HeaderSize)
            {
                break; // runs past the end: the last append was cut short
            }

            var payload = bytes.Slice(offset + HeaderSize, (int)length);
            SHA256.HashData(payload, hash);
            if (!hash[..4].SequenceEqual(bytes.Slice(offset + 4, 4)))
            {
                return offset + HeaderSize + length == bytes.Length
                    ? (frames, offset, null) // the file's last frame, half written
                    : (frames, offset, (offset, $"the journal frame at byte {offset} fails its checksum and is followed by {remaining - HeaderSize - length} more bytes"));
            }

            frames.Add(new JournalFrame(BinaryPrimitives.ReadInt64LittleEndian(bytes[(offset + 8)..]), offset, journal.Slice(offset + HeaderSize, (int)length)));
            offset += HeaderSize + (int)length;
        }

        return (frames, offset, null);
    }

    /// <summary>Bytes <paramref name="frame"/> takes in the journal.</summary>
    public static long FrameLength(JournalFrame frame) => HeaderSize + frame.Payload.Length;

    private static bool IsZero(ReadOnlySpan<byte> bytes) => !bytes.ContainsAnyExcept((byte)0);

    /// <summary>Records as bytes: <c>kind | uint16 key length | key | int32 index | int32 length | payload</c> each.</summary>
    public static byte[] EncodeRecords(IReadOnlyCollection<SessionRecord> records)
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
        var reader = new RecordReader(buffer);
        while (reader.Next(out var kind, out var key, out var index, out var payload))
        {
            records.Add(new SessionRecord(kind, Encoding.UTF8.GetString(key), index, payload.ToArray()));
        }

        return records;
    }
}

/// <summary>Reads the records <see cref="FileJournal.EncodeRecords"/> wrote, handing out payloads as slices (no copies).</summary>
internal ref struct RecordReader(ReadOnlySpan<byte> buffer)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private int _offset;

    /// <summary>Where the next record starts (the end of the last payload read).</summary>
    public readonly int Position => _offset;

    /// <summary>The next record; false at the end.</summary>
    /// <exception cref="FormatException">The bytes are not a record list.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Next(out RecordKind kind, out ReadOnlySpan<byte> key, out int index, out ReadOnlySpan<byte> payload)
    {
        if (_offset >= _buffer.Length)
        {
            (kind, index) = (default, 0);
            key = payload = default;
            return false;
        }

        try
        {
            kind = (RecordKind)_buffer[_offset];
            int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(_buffer[(_offset + 1)..]);
            key = _buffer.Slice(_offset + 3, keyLength);
            _offset += 3 + keyLength;
            index = BinaryPrimitives.ReadInt32LittleEndian(_buffer[_offset..]);
            var length = BinaryPrimitives.ReadInt32LittleEndian(_buffer[(_offset + 4)..]);
            payload = _buffer.Slice(_offset + 8, length);
            _offset += 8 + length;
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException)
        {
            throw new FormatException("a record list is malformed", ex);
        }
    }
}

/// <summary>One intact journal frame: the version it saved, where it starts in the journal, and its payload.</summary>
internal readonly record struct JournalFrame(long Version, long Offset, ReadOnlyMemory<byte> Payload);
