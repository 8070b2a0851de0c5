using System.Buffers;
using System.Runtime.InteropServices;

namespace Voxon.Storage;

/// <summary>
/// Float32 vectors read where they are stored: views of a buffer that a load owns and hands over to the entries it
/// decodes (a file snapshot read or opened into an array of its own), instead of copies into fresh blocks. A large load
/// then touches its vectors' bytes once, as the read puts them there; a copy made it write them all again into fresh
/// pages (measured at 10,000 memories: the copy and its page faults were half of a file load's time).
/// </summary>
/// <remarks>The bytes are little-endian float32 (<see cref="IsSupported"/>) at any offset: a vector's view comes from
/// the one of four views of the buffer that starts at its offset modulo 4, so no vector is moved into alignment (the
/// platforms .NET runs on read unaligned floats). The buffer lives as long as any view of it.</remarks>
internal sealed class StoredVectors
{
    private readonly Memory<float>[] _phases;

    /// <param name="bytes">The buffer the vectors are in; it must never be reused or written again.</param>
    public StoredVectors(byte[] bytes) =>
        _phases = [.. Enumerable.Range(0, sizeof(float)).Select(phase => new Phase(bytes, phase).Memory)];

    /// <summary>Whether stored vectors can be read in place here: they are stored little-endian.</summary>
    public static bool IsSupported => BitConverter.IsLittleEndian;

    /// <summary>The vector of <paramref name="floats"/> values stored from <paramref name="byteOffset"/> of the buffer
    /// (writable only in type: what is handed a view must not write it, <see cref="MemoryRecordFormat.Decode"/> does not).</summary>
    public Memory<float> View(int byteOffset, int floats)
    {
        var phase = byteOffset % sizeof(float);
        return _phases[phase].Slice((byteOffset - phase) / sizeof(float), floats);
    }

    /// <summary>The buffer from byte <paramref name="phase"/> on, as floats.</summary>
    private sealed class Phase(byte[] bytes, int phase) : MemoryManager<float>
    {
        public override Span<float> GetSpan() => MemoryMarshal.Cast<byte, float>(bytes.AsSpan(phase));

        public override MemoryHandle Pin(int elementIndex = 0) => bytes.AsMemory(phase + (elementIndex * sizeof(float))).Pin();

        public override void Unpin()
        {
            // Pin hands out the array's own handle, which unpins itself.
        }

        protected override void Dispose(bool disposing)
        {
            // Nothing to release: the array belongs to the garbage collector.
        }
    }
}
