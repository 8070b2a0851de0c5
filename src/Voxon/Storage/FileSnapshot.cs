using System.Buffers.Binary;
using System.IO.Hashing;

namespace Voxon.Storage;

/// <summary>
/// The file backend's snapshot (<c>ID.json</c>): <c>"VXSNAP2\n" | int64 version | int64 meta length | uint64 meta XxHash3 |
/// int64 content length | uint64 content XxHash3 | meta | content</c>. Meta holds the head and conversation header
/// records, content the memory and turn records (<see cref="FileJournal.EncodeRecords"/>), each section sealed on its
/// own when encrypted. A lazy load reads the header and meta only; a full load copies fields out of binary records
/// instead of parsing one large JSON document. Checksums catch damage to plaintext sections; encryption authenticates
/// each section, bound to the session and version.
/// Snapshots written before it are one JSON document (or its sealed envelope); they are read as before and replaced
/// by this format at the session's next snapshot (first save, compaction, <c>voxon store migrate</c>).
/// </summary>
internal static class FileSnapshot
{
    public const int HeaderSize = 48;

    private static ReadOnlySpan<byte> Magic => "VXSNAP2\n"u8;

    /// <summary>Whether <paramref name="bytes"/> start like a snapshot of this format (else: a legacy JSON snapshot).</summary>
    public static bool IsBinary(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Magic);

    /// <summary>Records that go in the meta section (all a lazy load needs).</summary>
    public static bool IsMeta(SessionRecord record) => record.Kind is RecordKind.Head or RecordKind.Conversation;

    public static string Context(string sessionId, long version, string section) => $"{sessionId}/snapshot/{version}/{section}";

    /// <summary>The snapshot bytes of two (already sealed) sections.</summary>
    public static byte[] Write(long version, ReadOnlySpan<byte> meta, ReadOnlySpan<byte> content)
    {
        var bytes = new byte[HeaderSize + meta.Length + content.Length];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], version);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], meta.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(span[24..], XxHash3.HashToUInt64(meta));
        BinaryPrimitives.WriteInt64LittleEndian(span[32..], content.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(span[40..], XxHash3.HashToUInt64(content));
        meta.CopyTo(span[HeaderSize..]);
        content.CopyTo(span[(HeaderSize + meta.Length)..]);
        return bytes;
    }

    /// <summary>Reads the header (the first <see cref="HeaderSize"/> bytes) of a snapshot <paramref name="fileLength"/> bytes long.</summary>
    /// <exception cref="FormatException">The header is damaged or does not match the file's length.</exception>
    public static SnapshotHeader ReadHeader(ReadOnlySpan<byte> header, long fileLength)
    {
        if (header.Length < HeaderSize || !IsBinary(header))
        {
            throw new FormatException($"the snapshot's header is cut short ({fileLength} bytes)");
        }

        var parsed = new SnapshotHeader(
            BinaryPrimitives.ReadInt64LittleEndian(header[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(header[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(header[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(header[32..]),
            BinaryPrimitives.ReadUInt64LittleEndian(header[40..]));
        return parsed.MetaLength is < 0 or > int.MaxValue || parsed.ContentLength is < 0 or > int.MaxValue || parsed.Length != fileLength
            ? throw new FormatException($"the snapshot's header gives sections of {parsed.MetaLength} and {parsed.ContentLength} bytes for a file of {fileLength}")
            : parsed;
    }

    /// <summary>Throws when a plaintext <paramref name="section"/> does not match its checksum. A sealed section is
    /// left to its authentication tag, which also tells tampering from a wrong key.</summary>
    /// <exception cref="FormatException">It does not.</exception>
    public static void Verify(ReadOnlySpan<byte> section, ulong expected, string name)
    {
        if (!SessionEncryption.IsEnvelope(section) && XxHash3.HashToUInt64(section) != expected)
        {
            throw new FormatException($"the snapshot's {name} section fails its checksum: it was damaged or tampered with");
        }
    }
}

/// <summary>A snapshot's header: its version and where its sections are.</summary>
internal readonly record struct SnapshotHeader(long Version, long MetaLength, ulong MetaHash, long ContentLength, ulong ContentHash)
{
    public long Length => FileSnapshot.HeaderSize + MetaLength + ContentLength;

    public int ContentOffset => FileSnapshot.HeaderSize + (int)MetaLength;
}
