using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Voxon.Memory.Search;

/// <summary>
/// Encodes embedding vectors for persistence as little-endian IEEE-754 float32, 4 bytes per component,
/// whatever the byte order of the machine (so a file written on one host loads on any other).
/// </summary>
internal static class EmbeddingCodec
{
    /// <summary>Encodes <paramref name="vector"/> as base64 of its little-endian float32 bytes.</summary>
    public static string ToBase64(ReadOnlySpan<float> vector) => Convert.ToBase64String(ToBytes(vector));

    /// <summary>Decodes a string produced by <see cref="ToBase64"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="base64"/> is null.</exception>
    /// <exception cref="FormatException">The text is not base64, or its byte count is not a multiple of 4.</exception>
    public static float[] FromBase64(string base64)
    {
        ArgumentNullException.ThrowIfNull(base64);
        return FromBytes(Convert.FromBase64String(base64));
    }

    /// <summary>Returns the little-endian float32 bytes of <paramref name="vector"/>.</summary>
    public static byte[] ToBytes(ReadOnlySpan<float> vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(vector).CopyTo(bytes);
        }
        else
        {
            for (var i = 0; i < vector.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
            }
        }

        return bytes;
    }

    /// <summary>Decodes little-endian float32 bytes.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <param name="pinned">Allocate the vector on the pinned object heap, which collections never copy (for vectors
    /// that live long and come many at once, such as those of a large load).</param>
    /// <exception cref="FormatException">The length of <paramref name="bytes"/> is not a multiple of 4.</exception>
    public static float[] FromBytes(ReadOnlySpan<byte> bytes, bool pinned = false)
    {
        if (bytes.Length % sizeof(float) != 0)
        {
            throw new FormatException(
                $"An embedding is a sequence of 4-byte float32 values; {bytes.Length} bytes is not a multiple of 4.");
        }

        var vector = pinned ? GC.AllocateUninitializedArray<float>(bytes.Length / sizeof(float), pinned: true) : new float[bytes.Length / sizeof(float)];
        CopyFromBytes(bytes, vector);
        return vector;
    }

    /// <summary>Decodes little-endian float32 bytes into <paramref name="vector"/>, exactly as long as they are.</summary>
    /// <exception cref="FormatException">The lengths differ.</exception>
    public static void CopyFromBytes(ReadOnlySpan<byte> bytes, Span<float> vector)
    {
        if (bytes.Length != vector.Length * sizeof(float))
        {
            throw new FormatException($"{bytes.Length} bytes do not hold an embedding of {vector.Length} float32 values.");
        }

        if (BitConverter.IsLittleEndian)
        {
            bytes.CopyTo(MemoryMarshal.AsBytes(vector));
        }
        else
        {
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * sizeof(float))..]);
            }
        }
    }
}
