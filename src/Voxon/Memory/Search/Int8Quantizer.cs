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
        for (var i = 0; i < vector.Length; i++)
        {
            codes[i] = (sbyte)Math.Clamp((int)MathF.Round(vector[i] * inverse), -MaxCode, MaxCode);
        }

        return scale;
    }

    /// <summary>The approximate components: code times scale.</summary>
    public static void Dequantize(ReadOnlySpan<sbyte> codes, float scale, Span<float> vector)
    {
        for (var i = 0; i < codes.Length; i++)
        {
            vector[i] = codes[i] * scale;
        }
    }

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
