using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Voxon.Memory.Search;

/// <summary>
/// One bit per dimension: bit <c>i</c> of a vector's code is set when component <c>i</c> is below the centre's (zero,
/// or the mean of the stored vectors, so that the bits tell memories apart instead of repeating what they share). The Hamming
/// distance of two codes counts the dimensions where the vectors disagree in sign, which grows with the angle between
/// them, so it ranks a large index coarsely for a few machine words per vector (48 bytes for 384 dimensions, against
/// 384 for int8).
/// </summary>
internal static class SignCodes
{
    /// <summary>The number of 64-bit words in the code of a <paramref name="dimensions"/>-dimensional vector.</summary>
    public static int Words(int dimensions) => (dimensions + 63) / 64;

    /// <summary>
    /// Writes the sign code of <paramref name="vector"/> about <paramref name="centre"/> (empty for zero) into
    /// <paramref name="code"/> (<see cref="Words"/> words).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="code"/> is not <see cref="Words"/> long, or the centre is not empty and differs in length from the vector.</exception>
    public static void Encode(ReadOnlySpan<float> vector, ReadOnlySpan<float> centre, Span<ulong> code)
    {
        if (code.Length != Words(vector.Length))
        {
            throw new ArgumentException($"Need {Words(vector.Length)} words, got {code.Length}.", nameof(code));
        }

        if (!centre.IsEmpty && centre.Length != vector.Length)
        {
            throw new ArgumentException($"The centre has {centre.Length} dimensions, the vector {vector.Length}.", nameof(centre));
        }

        code.Clear();
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // Eight components at a time: one compare gives their eight bits, which fall inside one word (i is a
            // multiple of 8). A scalar loop branched on each random sign, a misprediction every other component.
            for (; i <= vector.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var below = Vector256.LessThan(
                    Vector256.Create(vector.Slice(i, Vector256<float>.Count)),
                    centre.IsEmpty ? Vector256<float>.Zero : Vector256.Create(centre.Slice(i, Vector256<float>.Count)));
                code[i >> 6] |= (ulong)below.ExtractMostSignificantBits() << (i & 63);
            }
        }

        for (; i < vector.Length; i++)
        {
            if (vector[i] < (centre.IsEmpty ? 0 : centre[i]))
            {
                code[i >> 6] |= 1UL << (i & 63);
            }
        }
    }

    /// <summary>
    /// The Hamming distance of <paramref name="query"/> to each code of a contiguous code array, for
    /// <c>distances.Length</c> codes of <c>query.Length</c> words each.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="codes"/> is too short for that many codes.</exception>
    public static void Distances(ReadOnlySpan<ulong> codes, ReadOnlySpan<ulong> query, Span<ushort> distances)
    {
        var words = query.Length;
        if (codes.Length < (long)distances.Length * words || words > ushort.MaxValue / 64)
        {
            throw new ArgumentException($"{distances.Length} codes of {words} words need {(long)distances.Length * words} words.", nameof(codes));
        }

        ref var code = ref MemoryMarshal.GetReference(codes);
        ref var q = ref MemoryMarshal.GetReference(query);
        for (var i = 0; i < distances.Length; i++)
        {
            ref var vector = ref Unsafe.Add(ref code, i * words);
            var distance = 0;
            for (var w = 0; w < words; w++)
            {
                distance += BitOperations.PopCount(Unsafe.Add(ref vector, w) ^ Unsafe.Add(ref q, w));
            }

            distances[i] = (ushort)distance;
        }
    }
}
