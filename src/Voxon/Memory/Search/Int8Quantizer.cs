using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Voxon.Memory.Search;

/// <summary>
/// Symmetric int8 quantization with one scale per vector: component <c>x</c> is stored as
/// <c>round(x / scale)</c> with <c>scale = max|x| / 127</c>, so the largest component maps to ±127 and every
/// component is off by at most <c>scale / 2</c>. Codes stay within -127..127 (never -128), which keeps the
/// pairwise sums of the AVX2 kernel below the 16-bit saturation point.
/// </summary>
internal static class Int8Quantizer
{
    /// <summary>The largest code.</summary>
    public const int MaxCode = 127;

    /// <summary>Writes the codes of <paramref name="vector"/> into <paramref name="codes"/> and returns the scale (0 for a zero vector).</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static float Quantize(ReadOnlySpan<float> vector, Span<sbyte> codes)
    {
        if (codes.Length != vector.Length)
        {
            throw new ArgumentException($"Need {vector.Length} codes, got room for {codes.Length}.", nameof(codes));
        }

        var largest = vector.IsEmpty ? 0 : TensorPrimitives.MaxMagnitude(vector);
        largest = Math.Abs(largest);
        if (!(largest > 0) || !float.IsFinite(largest))
        {
            codes.Clear();
            return 0;
        }

        var scale = largest / MaxCode;
        var inverse = MaxCode / largest;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // 32 components at a time, as the loop below computes each (rounding to even, like MathF.Round): a load
            // quantizes every vector when it builds the search index, and one at a time this was 9% of that build.
            var factor = Vector256.Create(inverse);
            for (; i <= vector.Length - 32; i += 32)
            {
                var shorts = Vector256.Narrow(Codes(vector[i..], factor), Codes(vector[(i + 8)..], factor));
                var more = Vector256.Narrow(Codes(vector[(i + 16)..], factor), Codes(vector[(i + 24)..], factor));
                Vector256.Narrow(shorts, more).CopyTo(codes[i..]);
            }
        }

        for (; i < vector.Length; i++)
        {
            codes[i] = (sbyte)Math.Clamp((int)MathF.Round(vector[i] * inverse), -MaxCode, MaxCode);
        }

        return scale;
    }

    private static Vector256<int> Codes(ReadOnlySpan<float> values, Vector256<float> factor) =>
        Vector256.Clamp(Vector256.ConvertToInt32(Vector256.Round(Vector256.Create(values) * factor)), Vector256.Create(-MaxCode), Vector256.Create(MaxCode));

    /// <summary>The approximate components: code times scale.</summary>
    public static void Dequantize(ReadOnlySpan<sbyte> codes, float scale, Span<float> vector)
    {
        for (var i = 0; i < codes.Length; i++)
        {
            vector[i] = codes[i] * scale;
        }
    }

    /// <summary>
    /// Scores vectors of a contiguous code array against one query:
    /// <c>scores[i] = Dot(codes of vector v, query) * scales[v] * queryScale</c>, for <c>scores.Length</c> vectors, where
    /// <c>v</c> is <c>i</c>, or <c>slots[i]</c> when <paramref name="slots"/> is given (a shortlist, in any order).
    /// </summary>
    /// <remarks>
    /// The query is split once into |q| (unsigned) and its signs, so each 32 bytes of a vector cost a load, a sign
    /// copy and one multiply-add (vpdpbusd with AVX-VNNI, else vpmaddubsw + vpmaddwd), in four independent sums.
    /// </remarks>
    /// <exception cref="ArgumentException">The codes or scales are too few for the vectors scored, or <paramref name="slots"/> is shorter than <paramref name="scores"/>.</exception>
    public static void Scan(
        ReadOnlySpan<sbyte> codes, ReadOnlySpan<float> scales, ReadOnlySpan<sbyte> query, float queryScale, Span<float> scores, ReadOnlySpan<int> slots = default)
    {
        var d = query.Length;
        var count = scores.Length;
        var gathered = !slots.IsEmpty;
        var vectors = gathered ? MaxSlot(slots, count) + 1 : count;
        if (codes.Length < (long)vectors * d || scales.Length < vectors)
        {
            throw new ArgumentException($"{vectors} vectors of {d} codes need {(long)vectors * d} codes and {vectors} scales.", nameof(codes));
        }

        const int Block = 4 * 32;
        if (!Avx2.IsSupported || d == 0 || d % Block != 0 || d > 4096)
        {
            for (var i = 0; i < count; i++)
            {
                var v = gathered ? slots[i] : i;
                scores[i] = Dot(codes.Slice(v * d, d), query) * scales[v] * queryScale;
            }

            return;
        }

        var chunks = d / 32;
        Span<Vector256<byte>> magnitudes = stackalloc Vector256<byte>[chunks];
        Span<Vector256<sbyte>> signs = stackalloc Vector256<sbyte>[chunks];
        ref var q = ref MemoryMarshal.GetReference(query);
        for (var c = 0; c < chunks; c++)
        {
            signs[c] = Vector256.LoadUnsafe(ref q, (nuint)(c * 32));
            magnitudes[c] = Avx2.Abs(signs[c]);
        }

        ref var code = ref MemoryMarshal.GetReference(codes);
        for (var i = 0; i < count; i++)
        {
            var v = gathered ? slots[i] : i;
            ref var vector = ref Unsafe.Add(ref code, v * d);
            var (s0, s1, s2, s3) = (Vector256<int>.Zero, Vector256<int>.Zero, Vector256<int>.Zero, Vector256<int>.Zero);
            for (var c = 0; c < chunks; c += 4)
            {
                s0 = MultiplyAdd(s0, magnitudes[c], Avx2.Sign(Vector256.LoadUnsafe(ref vector, (nuint)(c * 32)), signs[c]));
                s1 = MultiplyAdd(s1, magnitudes[c + 1], Avx2.Sign(Vector256.LoadUnsafe(ref vector, (nuint)((c + 1) * 32)), signs[c + 1]));
                s2 = MultiplyAdd(s2, magnitudes[c + 2], Avx2.Sign(Vector256.LoadUnsafe(ref vector, (nuint)((c + 2) * 32)), signs[c + 2]));
                s3 = MultiplyAdd(s3, magnitudes[c + 3], Avx2.Sign(Vector256.LoadUnsafe(ref vector, (nuint)((c + 3) * 32)), signs[c + 3]));
            }

            scores[i] = Vector256.Sum((s0 + s1) + (s2 + s3)) * scales[v] * queryScale;
        }
    }

    // The largest of the first count slots; throws for a negative one or too few.
    private static int MaxSlot(ReadOnlySpan<int> slots, int count)
    {
        if (slots.Length < count)
        {
            throw new ArgumentException($"{count} scores need {count} slots, got {slots.Length}.", nameof(slots));
        }

        var max = -1;
        foreach (var slot in slots[..count])
        {
            ArgumentOutOfRangeException.ThrowIfNegative(slot, nameof(slots));
            max = Math.Max(max, slot);
        }

        return max;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> MultiplyAdd(Vector256<int> sum, Vector256<byte> magnitude, Vector256<sbyte> signed) =>
        AvxVnni.IsSupported
            ? AvxVnni.MultiplyWideningAndAdd(sum, magnitude, signed)
            : sum + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(magnitude, signed), Vector256.Create((short)1));

    /// <summary>The exact integer dot product of two code vectors of the same length (codes within -127..127).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        var length = Math.Min(a.Length, b.Length);
        ref var left = ref MemoryMarshal.GetReference(a);
        ref var right = ref MemoryMarshal.GetReference(b);
        var i = 0;
        var sum = 0;
        if (Avx2.IsSupported && length >= Vector256<sbyte>.Count)
        {
            // vpmaddubsw multiplies unsigned by signed bytes: |a| times b carrying a's sign; pairs of products
            // (at most 2 * 127 * 127) fit in 16 bits, and vpmaddwd by ones widens them into 32-bit sums.
            var ones = Vector256.Create((short)1);
            var total = Vector256<int>.Zero;
            for (; i <= length - Vector256<sbyte>.Count; i += Vector256<sbyte>.Count)
            {
                var x = Vector256.LoadUnsafe(ref left, (nuint)i);
                var y = Vector256.LoadUnsafe(ref right, (nuint)i);
                var pairs = Avx2.MultiplyAddAdjacent(Avx2.Abs(x), Avx2.Sign(y, x));
                total += Avx2.MultiplyAddAdjacent(pairs, ones);
            }

            sum = Vector256.Sum(total);
        }
        else if (Vector128.IsHardwareAccelerated && length >= Vector128<sbyte>.Count)
        {
            var total = Vector128<int>.Zero;
            for (; i <= length - Vector128<sbyte>.Count; i += Vector128<sbyte>.Count)
            {
                var (xLow, xHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref left, (nuint)i));
                var (yLow, yHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref right, (nuint)i));
                var (p0, p1) = Vector128.Widen(xLow * yLow);
                var (p2, p3) = Vector128.Widen(xHigh * yHigh);
                total += p0 + p1 + p2 + p3;
            }

            sum = Vector128.Sum(total);
        }

        for (; i < length; i++)
        {
            sum += Unsafe.Add(ref left, i) * Unsafe.Add(ref right, i);
        }

        return sum;
    }
}
