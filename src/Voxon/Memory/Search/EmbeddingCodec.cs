using System.Runtime.InteropServices;

namespace Voxon.Memory.Search;

// Interim codec: replaced on the search branch.
internal static class EmbeddingCodec
{
    public static string ToBase64(ReadOnlySpan<float> vector) => Convert.ToBase64String(MemoryMarshal.AsBytes(vector));

    public static float[] FromBase64(string text)
    {
        var bytes = Convert.FromBase64String(text);
        if (bytes.Length % 4 != 0)
        {
            throw new FormatException("An embedding must be a whole number of float32 values.");
        }

        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }
}
