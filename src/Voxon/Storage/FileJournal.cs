using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace Voxon.Storage;

/// <summary>
/// The file backend's append-only journal of frames, one per save: <c>uint32 0x80000000 | n | checksum of the sections
/// header and the conversations section | int64 version, its top bit set | sections header: int32 conversations length,
/// int32 head length, checksums of head and of content | conversations | head | content</c> (n counts the bytes after
/// the version; a checksum is the low 32 bits of XxHash3, little-endian). The sections hold the save's conversation
/// header records, its head record and its memory and turn records (<see cref="EncodeRecords"/>), each sealed on its
/// own when encrypted. A head is the whole session's metadata, so a lazy load (<see cref="ReadMetadata"/>) reads of
/// each frame only its headers and conversations (a few dozen bytes for a save of one turn), and the last frame whole:
/// the bytes it reads do not grow with the memories, turns and heads saved since the snapshot. Older frames are still
/// read: with sections but the version's top bit clear, their checksums are 4-byte SHA-256 prefixes (which cost 25-100
/// times as much to check: a lazy load of a journal of 2,700 frames spent about a third of its time on them); from
/// before sections (<c>uint32 n | 4-byte SHA-256 prefix | int64 version | records</c>, n under 2^31). A compaction or
/// <c>voxon store migrate</c> folds them into a snapshot. Only a torn tail may be ignored: the last frame of the file,
/// cut short by a crash during its append (it runs past the end of the file, fails a checksum as the file's last bytes,
/// or the file ends in zeros from it on). Whether that frame was acknowledged is for the caller to check against the
/// acknowledged version; a damaged frame with data after it is corruption.
/// </summary>
internal static class FileJournal
{
    private const int HeaderSize = 16;

    /// <summary>The sections header of a frame with sections.</summary>
    private const int SectionsSize = 16;

    /// <summary>Set in the first uint32 of a frame with sections; never set in an older frame's payload length.</summary>
    private const uint SectionsFlag = 0x8000_0000;

    /// <summary>Set in the version word of a frame whose checksums are XxHash3; versions are positive, so it is never set
    /// in an older frame's.</summary>
    private const ulong XxHashFlag = 0x8000_0000_0000_0000;

    /// <summary>The older frame formats a journal may hold, oldest first.</summary>
    internal enum OlderFormat
    {
        /// <summary>Records, no sections, a SHA-256 checksum.</summary>
        Records,

        /// <summary>Sections with SHA-256 checksums.</summary>
        Sha256Sections,
    }

    /// <summary>A frame of one save's sections, each as stored (sealed or not); with SHA-256 checksums when
    /// <paramref name="sha256"/> (as older versions wrote, for tests).</summary>
    public static byte[] Frame(long version, ReadOnlySpan<byte> conversations, ReadOnlySpan<byte> head, ReadOnlySpan<byte> content, bool sha256 = false)
    {
        var frame = new byte[HeaderSize + SectionsSize + conversations.Length + head.Length + content.Length];
        var span = frame.AsSpan();
        var xxHash = !sha256;
        BinaryPrimitives.WriteUInt32LittleEndian(span, SectionsFlag | (uint)(frame.Length - HeaderSize));
        BinaryPrimitives.WriteUInt64LittleEndian(span[8..], (ulong)version | (xxHash ? XxHashFlag : 0));
        var sections = span.Slice(HeaderSize, SectionsSize);
        BinaryPrimitives.WriteInt32LittleEndian(sections, conversations.Length);
        BinaryPrimitives.WriteInt32LittleEndian(sections[4..], head.Length);
        Checksum(head, sections[8..12], xxHash);
        Checksum(content, sections[12..16], xxHash);
        var at = HeaderSize + SectionsSize;
        conversations.CopyTo(span[at..]);
        head.CopyTo(span[(at + conversations.Length)..]);
        content.CopyTo(span[(at + conversations.Length + head.Length)..]);
        Checksum(span.Slice(HeaderSize, SectionsSize + conversations.Length), span[4..8], xxHash);
        return frame;
    }

    /// <summary>Test hook: saves in this flow append frames of this older format, to test journals written by older
    /// versions; null (the default) for the current one.</summary>
    internal static readonly AsyncLocal<OlderFormat?> WriteOlderFormat = new();

    /// <summary>A frame as written before sections (see <see cref="WriteOlderFormat"/>).</summary>
    internal static byte[] LegacyFrame(long version, ReadOnlySpan<byte> records)
    {
        var frame = new byte[HeaderSize + records.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)records.Length);
        Checksum(records, frame.AsSpan(4, 4), xxHash: false);
        BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(8), version);
        records.CopyTo(frame.AsSpan(HeaderSize));
        return frame;
    }

    /// <summary>The intact frames of <paramref name="journal"/>, every section read and checked. Sections are slices of
    /// <paramref name="journal"/>, not copies.</summary>
    public static JournalRead Read(ReadOnlyMemory<byte> journal) => Read(new JournalInMemory(journal), metadataOnly: false);

    /// <summary>The intact frames of the journal file <paramref name="parts"/>, reading of each frame with sections only
    /// its headers and conversations section, but for the last frame (the one a crash may have torn), which is read and
    /// checked whole, like frames written before sections. Sections are slices of buffers of <paramref name="parts"/>,
    /// valid until it is disposed.</summary>
    public static JournalRead ReadMetadata(JournalFileParts parts) => Read(parts, metadataOnly: true);

    /// <summary>The intact frames (with their offsets), the length they cover, and the damage found after them: null
    /// when the rest is empty or a torn tail, else the offset and what is wrong.</summary>
    private static JournalRead Read(JournalBytes journal, bool metadataOnly)
    {
        var read = ReadFrames(journal, metadataOnly);
        if (read.Damage is not null || read.Frames.Count == 0 || read.Frames[^1].HeadRead)
        {
            return read;
        }

        // The last intact frame was read in part (a torn one follows it): its head is the session's, so read it whole.
        var frame = read.Frames[^1];
        var header = journal.Read(frame.Offset, HeaderSize + SectionsSize);
        var (whole, problem) = ReadSections(journal, frame.Offset, header, (int)(frame.Length - HeaderSize), VersionWord(header.Span), whole: true);
        read.Frames[^1] = whole;
        return problem is null
            ? read
            : new(read.Frames[..^1], frame.Offset, (frame.Offset, $"the journal frame at byte {frame.Offset} {problem} and is followed by {journal.Length - frame.Offset - frame.Length} more bytes"));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static JournalRead ReadFrames(JournalBytes journal, bool metadataOnly)
    {
        var frames = new List<JournalFrame>();
        var length = journal.Length;
        long offset = 0;

        // Saves of one session mostly change the same conversations: reading as many bytes of them as the last frame
        // had with its headers makes one read of a frame's headers and conversations, not two.
        var expectedConversations = 0;
        while (offset < length)
        {
            var remaining = length - offset;
            var read = remaining < HeaderSize ? default : journal.Read(offset, (int)Math.Min(remaining, HeaderSize + SectionsSize + expectedConversations));
            var header = read.Span;
            if (remaining < HeaderSize || (IsZero(header[..HeaderSize]) && IsZero(journal.Read(offset, (int)Math.Min(remaining, int.MaxValue)).Span)))
            {
                break; // a header cut short, or space the file system allocated but the crash never filled
            }

            var first = BinaryPrimitives.ReadUInt32LittleEndian(header);
            var size = first & ~SectionsFlag;
            if (size > remaining - HeaderSize)
            {
                break; // runs past the end: the last append was cut short
            }

            var last = offset + HeaderSize + size == length;
            var version = VersionWord(header);
            var (frame, problem) = (first & SectionsFlag) != 0
                ? ReadSections(journal, offset, read, (int)size, version, whole: !metadataOnly || last)
                : ReadRecords(journal, offset, header, (int)size, version);
            if (problem is not null)
            {
                return last
                    ? new(frames, offset, null) // the file's last frame, half written
                    : new(frames, offset, (offset, $"the journal frame at byte {offset} {problem} and is followed by {remaining - HeaderSize - size} more bytes"));
            }

            frames.Add(frame);
            expectedConversations = frame.Conversations.Length;
            offset += HeaderSize + size;
        }

        return new(frames, offset, null);
    }

    /// <summary>A frame's version, and whether its checksums are XxHash3 (else SHA-256 prefixes).</summary>
    private static (long Version, bool XxHash) VersionWord(ReadOnlySpan<byte> header)
    {
        var word = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        return ((long)(word & ~XxHashFlag), (word & XxHashFlag) != 0);
    }

    private static (JournalFrame Frame, string? Problem) ReadRecords(JournalBytes journal, long offset, ReadOnlySpan<byte> header, int size, (long Version, bool XxHash) version)
    {
        var records = journal.Read(offset + HeaderSize, size);
        return Matches(records.Span, header[4..8], version.XxHash)
            ? (new JournalFrame(version.Version, offset, HeaderSize + size, false, default, null, records), null)
            : (default, "fails its checksum");
    }

    /// <summary>Reads and checks a frame with sections of <paramref name="size"/> bytes after its header, whose first
    /// bytes (its headers, and maybe more) are <paramref name="header"/>; only its headers and conversations unless
    /// <paramref name="whole"/>.</summary>
    private static (JournalFrame Frame, string? Problem) ReadSections(JournalBytes journal, long offset, ReadOnlyMemory<byte> header, int size, (long Version, bool XxHash) version, bool whole)
    {
        if (size < SectionsSize)
        {
            return (default, "is too short for its sections");
        }

        var sections = header.Span.Slice(HeaderSize, SectionsSize);
        var conversationsLength = BinaryPrimitives.ReadInt32LittleEndian(sections);
        var headLength = BinaryPrimitives.ReadInt32LittleEndian(sections[4..]);
        if (conversationsLength < 0 || headLength < 0 || (long)conversationsLength + headLength > size - SectionsSize)
        {
            return (default, $"gives sections of {conversationsLength} and {headLength} bytes in {size}");
        }

        // The sections header is checked with the conversations: damaged lengths or checksums are caught here.
        var checkedLength = SectionsSize + conversationsLength;
        var checkedPart = header.Length >= HeaderSize + checkedLength ? header.Slice(HeaderSize, checkedLength) : journal.Read(offset + HeaderSize, checkedLength);
        if (!Matches(checkedPart.Span, header.Span[4..8], version.XxHash))
        {
            return (default, "fails its checksum");
        }

        var start = offset + HeaderSize + checkedLength;
        var conversations = checkedPart[SectionsSize..];

        if (!whole)
        {
            return (new JournalFrame(version.Version, offset, HeaderSize + size, true, conversations, null, null), null);
        }

        var head = journal.Read(start, headLength);
        var content = journal.Read(start + headLength, size - checkedLength - headLength);
        return !Matches(head.Span, sections[8..12], version.XxHash) ? (default, "fails its head checksum")
            : !Matches(content.Span, sections[12..16], version.XxHash) ? (default, "fails its content checksum")
            : (new JournalFrame(version.Version, offset, HeaderSize + size, true, conversations, head, content), null);
    }

    private static void Checksum(ReadOnlySpan<byte> bytes, Span<byte> checksum, bool xxHash)
    {
        if (xxHash)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(checksum, (uint)XxHash3.HashToUInt64(bytes));
            return;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes, hash);
        hash[..4].CopyTo(checksum);
    }

    private static bool Matches(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> checksum, bool xxHash)
    {
        Span<byte> computed = stackalloc byte[4];
        Checksum(bytes, computed, xxHash);
        return computed.SequenceEqual(checksum);
    }

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

/// <summary>One intact journal frame: the version it saved, where it starts in the journal and its length there, and
/// its sections as stored (sealed or not). A frame written before sections (not <paramref name="Sectioned"/>) has all its
/// records in <paramref name="Content"/>. Null sections were not read (<see cref="FileJournal.ReadMetadata"/>).</summary>
internal readonly record struct JournalFrame(long Version, long Offset, long Length, bool Sectioned, ReadOnlyMemory<byte> Conversations, ReadOnlyMemory<byte>? Head, ReadOnlyMemory<byte>? Content)
{
    /// <summary>Whether the frame's head record was read (in its own section, or among all its records).</summary>
    public bool HeadRead => Sectioned ? Head is not null : Content is not null;
}

/// <summary>What reading a journal found: its intact frames, the length they cover, and the damage after them (null
/// when the rest is empty or a torn tail).</summary>
internal readonly record struct JournalRead(List<JournalFrame> Frames, long ValidLength, (long Offset, string Problem)? Damage);

/// <summary>A journal's bytes as its frames are read.</summary>
internal abstract class JournalBytes
{
    public abstract long Length { get; }

    /// <summary><paramref name="count"/> bytes from <paramref name="offset"/> (which the caller keeps within <see cref="Length"/>).</summary>
    public abstract ReadOnlyMemory<byte> Read(long offset, int count);
}

/// <summary>A journal read whole into memory.</summary>
internal sealed class JournalInMemory(ReadOnlyMemory<byte> bytes) : JournalBytes
{
    public override long Length => bytes.Length;

    public override ReadOnlyMemory<byte> Read(long offset, int count) => bytes.Slice((int)offset, count);
}

/// <summary>A journal file read a part at a time (positioned reads), into pooled buffers; disposing it returns them
/// and closes the file. Counts the bytes it read.</summary>
internal sealed class JournalFileParts(Microsoft.Win32.SafeHandles.SafeFileHandle file, long length) : JournalBytes, IDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly List<byte[]> _buffers = [];
    private byte[] _current = [];
    private int _used;

    public override long Length => length;

    /// <summary>Bytes read from the file so far.</summary>
    public long BytesRead { get; private set; }

    /// <exception cref="IOException">The file could not be read, or ended early (changed while it was read).</exception>
    public override ReadOnlyMemory<byte> Read(long offset, int count)
    {
        if (_current.Length - _used < count)
        {
            _current = ArrayPool<byte>.Shared.Rent(Math.Max(count, BufferSize));
            _buffers.Add(_current);
            _used = 0;
        }

        var part = _current.AsMemory(_used, count);
        for (var done = 0; done < count;)
        {
            var read = RandomAccess.Read(file, part.Span[done..], offset + done);
            done += read > 0 ? read : throw new IOException($"the journal ended at byte {offset + done} of {length} while it was read");
        }

        _used += count;
        BytesRead += count;
        return part;
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _buffers.Clear();
        file.Dispose();
    }
}
