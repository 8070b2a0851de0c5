using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Voxon.Storage;

/// <summary>
/// Writes the fields of a binary record, little-endian: a string is <c>int32 byte length (-1 for null) | UTF-8</c>, a
/// time <c>int64 UTC ticks | int16 offset minutes</c>. Made over an empty span it only counts, so one write method gives
/// both a record's size and its bytes.
/// </summary>
internal ref struct FieldWriter(Span<byte> buffer)
{
    private readonly Span<byte> _buffer = buffer;
    private readonly bool _counting = buffer.IsEmpty;

    /// <summary>Bytes written (or counted) so far.</summary>
    public int Offset { get; private set; }

    /// <summary>The record <paramref name="write"/> makes of <paramref name="value"/>: a counting pass sizes the array,
    /// a second pass fills it.</summary>
    public static byte[] Record<T>(T value, WriteFields<T> write)
    {
        var size = new FieldWriter([]);
        write(ref size, value);
        var buffer = new byte[size.Offset];
        var writer = new FieldWriter(buffer);
        write(ref writer, value);
        return writer.Offset == buffer.Length ? buffer : throw new InvalidOperationException($"a {typeof(T).Name} record wrote {writer.Offset} bytes after counting {buffer.Length}");
    }

    public void Int32(int value)
    {
        if (!_counting)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_buffer[Offset..], value);
        }

        Offset += 4;
    }

    public void Byte(byte value)
    {
        if (!_counting)
        {
            _buffer[Offset] = value;
        }

        Offset++;
    }

    public void Double(double value)
    {
        if (!_counting)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(_buffer[Offset..], value);
        }

        Offset += 8;
    }

    public void Time(DateTimeOffset value)
    {
        if (!_counting)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_buffer[Offset..], value.UtcTicks);
            BinaryPrimitives.WriteInt16LittleEndian(_buffer[(Offset + 8)..], (short)value.TotalOffsetMinutes);
        }

        Offset += 10;
    }

    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        if (!_counting)
        {
            bytes.CopyTo(_buffer[Offset..]);
        }

        Offset += bytes.Length;
    }

    public void String(string? value)
    {
        if (value is null)
        {
            Int32(-1);
            return;
        }

        var length = _counting ? Encoding.UTF8.GetByteCount(value) : Encoding.UTF8.GetBytes(value, _buffer[(Offset + 4)..]);
        Int32(length);
        Offset += length;
    }
}

/// <summary>Writes the fields of <paramref name="value"/>, the same ones whether <paramref name="writer"/> counts or writes.</summary>
internal delegate void WriteFields<in T>(ref FieldWriter writer, T value);

/// <summary>Reads the fields <see cref="FieldWriter"/> wrote. Running past the end throws
/// <see cref="ArgumentOutOfRangeException"/> or <see cref="IndexOutOfRangeException"/>; a bad length <see cref="FormatException"/>.</summary>
internal ref struct FieldReader(ReadOnlySpan<byte> buffer)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private int _offset;

    public readonly bool AtEnd => _offset == _buffer.Length;

    public int Int32()
    {
        var value = BinaryPrimitives.ReadInt32LittleEndian(_buffer[_offset..]);
        _offset += 4;
        return value;
    }

    /// <summary>A count of items that each take at least <paramref name="minimumSize"/> bytes of what is left.</summary>
    /// <exception cref="FormatException">Negative, or more than the bytes left can hold.</exception>
    public int Count(int minimumSize)
    {
        var count = Int32();
        return count >= 0 && (long)count * minimumSize <= _buffer.Length - _offset ? count : throw new FormatException($"count {count}");
    }

    public byte Byte() => _buffer[_offset++];

    public double Double()
    {
        var value = BinaryPrimitives.ReadDoubleLittleEndian(_buffer[_offset..]);
        _offset += 8;
        return value;
    }

    public DateTimeOffset Time()
    {
        var ticks = BinaryPrimitives.ReadInt64LittleEndian(_buffer[_offset..]);
        var offset = TimeSpan.FromMinutes(BinaryPrimitives.ReadInt16LittleEndian(_buffer[(_offset + 8)..]));
        _offset += 10;
        return new DateTimeOffset(ticks + offset.Ticks, offset);
    }

    public ReadOnlySpan<byte> Bytes(int length)
    {
        var bytes = _buffer.Slice(_offset, length);
        _offset += length;
        return bytes;
    }

    public string? String() => StringBytes(out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>A string that recurs from record to record (a category, an embedding model, a reason, a memory id a turn
    /// lists twice): the instance last read from the same bytes on this thread when there is one, so a load of thousands
    /// of records does not allocate and transcode the same few strings thousands of times.</summary>
    public string? Recurring()
    {
        if (!StringBytes(out var bytes))
        {
            return null;
        }

        if (bytes.Length > RecurringMaxBytes)
        {
            return Encoding.UTF8.GetString(bytes);
        }

        var recent = t_recent ??= new string?[RecurringSlots];
        var slot = (int)(XxHash3.HashToUInt64(bytes) & (RecurringSlots - 1));
        return recent[slot] is { } known && Ascii.Equals(bytes, known) ? known : recent[slot] = Encoding.UTF8.GetString(bytes);
    }

    /// <summary>A string that must be present.</summary>
    /// <exception cref="FormatException">It is null.</exception>
    public string Required(string name, bool recurring = false) => (recurring ? Recurring() : String()) ?? throw new FormatException("no " + name);

    private bool StringBytes(out ReadOnlySpan<byte> bytes)
    {
        var length = Int32();
        bytes = length switch
        {
            -1 => default,
            < 0 => throw new FormatException($"string length {length}"),
            _ => Bytes(length),
        };
        return length != -1;
    }

    private const int RecurringSlots = 256;
    private const int RecurringMaxBytes = 64;

    // Per thread: decoding runs on several threads at once, and strings are immutable, so sharing instances is safe.
    [ThreadStatic]
    private static string?[]? t_recent;
}
