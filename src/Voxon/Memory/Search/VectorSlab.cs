using System.Numerics.Tensors;

namespace Voxon.Memory.Search;

/// <summary>
/// The embeddings of an index's memories by slot, normalized: the float32 vector for exact scores (the memory's own
/// embedding, not a copy, when it is unit length already; a small index also keeps a contiguous copy, which its exact
/// scans read), and in contiguous arrays the compact copy (<see cref="ScanPrecision"/>) that the semantic scan reads,
/// and for a compact copy the slot's <see cref="SignCodes"/> that narrow a large scan down. Every copy of a slot is
/// written, moved and cleared together.
/// </summary>
/// <remarks>
/// A scan over 100k 384-dimensional vectors reads 150 MB in float32, which costs more than the arithmetic; int8
/// reads a quarter of it. The scan's scores are approximate, so the index keeps a generous shortlist by them and
/// rescores it with <see cref="Exact"/>. Not thread-safe for writes, like the index that owns it, except that
/// <see cref="Store"/> into different slots may run at once when the dimensions are set and the capacity is made (a
/// slot's copies are its own, and the sign centre is only read).
/// </remarks>
internal sealed class VectorSlab(ScanPrecision precision)
{
    /// <summary>The number of vectors from which <see cref="Scan"/> splits the work across cores.</summary>
    public const int ParallelScanThreshold = 32_768;

    /// <summary>
    /// The number of shortlisted slots from which <see cref="ScanSlots"/> splits the work across cores: each slot of a
    /// shortlist is a fresh miss in memory, about fifteen times the cost of a slot of a contiguous scan.
    /// </summary>
    public const int ParallelShortlistThreshold = 2_048;

    /// <summary>Capacity up to which the float32 vectors are also kept in one contiguous array: a small index is scanned
    /// whole in float32 (<see cref="Scan"/> with <c>exact</c>) on every search, and reading the memories' own arrays
    /// instead cost a 1,000-memory turn 11-18 µs more. A larger one reads float32 only to rescore a shortlist, and
    /// keeping the copy doubled its memory (10,000 memories: 3,730 B each with it, 1,239 without).</summary>
    internal const int ContiguousCapacity = 4_096;

    /// <summary>Each slot's float32 vector, unit length: the memory's own embedding when it already is (every encoder
    /// here normalizes), else a normalized copy; empty for a slot with no vector.</summary>
    private ReadOnlyMemory<float>[] _vectors = [];

    /// <summary>The same vectors, contiguous, while the capacity is at most <see cref="ContiguousCapacity"/>; else empty.</summary>
    private float[] _contiguous = [];

    /// <summary>What a slot with no vector reads as: zeros, which score 0 against any query.</summary>
    private float[] _zeros = [];
    private sbyte[] _codes = [];
    private float[] _scales = [];
    private Half[] _halves = [];
    private ulong[] _signs = [];
    private float[] _signCentre = [];
    private int _capacity;

    /// <summary>The copy the scan reads.</summary>
    public ScanPrecision Precision => precision;

    /// <summary>The vectors' dimension, set by the first vector stored, or 0.</summary>
    public int Dimensions { get; private set; }

    /// <summary>Whether <see cref="Scan"/> gives approximate scores that need <see cref="Exact"/> rescoring.</summary>
    public bool IsApproximate => precision != ScanPrecision.Float32;

    /// <summary>Makes room for slots 0..<paramref name="slots"/>-1.</summary>
    public void EnsureCapacity(int slots)
    {
        if (slots <= _capacity)
        {
            return;
        }

        _capacity = slots;
        Array.Resize(ref _vectors, slots);
        if (Dimensions != 0)
        {
            Resize();
        }
    }

    /// <summary>
    /// Stores <paramref name="embedding"/>, normalized, in <paramref name="slot"/>. For an empty, zero or non-finite
    /// vector it zeroes the slot (which then scores 0 against any query) and returns false.
    /// </summary>
    /// <exception cref="ArgumentException">The length differs from <see cref="Dimensions"/>.</exception>
    public bool Store(int slot, ReadOnlyMemory<float> embedding)
    {
        if (!embedding.IsEmpty && Dimensions != 0 && embedding.Length != Dimensions)
        {
            throw new ArgumentException(
                $"Embedding has {embedding.Length} dimensions; this index holds {Dimensions}-dimensional embeddings.", nameof(embedding));
        }

        var norm = embedding.IsEmpty ? 0 : TensorPrimitives.Norm(embedding.Span);
        if (!(norm > 0) || !float.IsFinite(norm))
        {
            Zero(slot);
            return false;
        }

        if (Dimensions == 0)
        {
            Dimensions = embedding.Length;
            Resize();
        }

        // Kept where it is when it is unit length already: the memory's embedding never changes, and a copy made a large
        // index twice the size of its memories' vectors (and a load's build write 15 MB of fresh pages at 10,000).
        if (Math.Abs(norm - 1) > UnitLengthTolerance)
        {
            var normalized = new float[embedding.Length];
            TensorPrimitives.Divide(embedding.Span, norm, normalized);
            embedding = normalized;
        }

        _vectors[slot] = embedding;
        var vector = embedding.Span;
        if (_contiguous.Length > 0)
        {
            vector.CopyTo(_contiguous.AsSpan(slot * Dimensions, Dimensions));
        }

        if (IsApproximate)
        {
            SignCodes.Encode(vector, _signCentre, SignCode(slot));
        }

        switch (precision)
        {
            case ScanPrecision.Int8:
                _scales[slot] = Int8Quantizer.Quantize(vector, _codes.AsSpan(slot * Dimensions, Dimensions));
                break;
            case ScanPrecision.Float16:
                TensorPrimitives.ConvertToHalf(vector, _halves.AsSpan(slot * Dimensions, Dimensions));
                break;
        }

        return true;
    }

    /// <summary>How far from 1 the norm of a vector kept as it is may be: float32 rounding of a normalized vector.</summary>
    internal const float UnitLengthTolerance = 1e-5f;

    /// <summary>Copies slot <paramref name="from"/> (both copies, zeros included) into slot <paramref name="to"/>.</summary>
    public void Move(int from, int to)
    {
        var d = Dimensions;
        if (d == 0)
        {
            return;
        }

        _vectors[to] = _vectors[from];
        if (_contiguous.Length > 0)
        {
            _contiguous.AsSpan(from * d, d).CopyTo(_contiguous.AsSpan(to * d, d));
        }

        if (IsApproximate)
        {
            SignCode(from).CopyTo(SignCode(to));
        }

        switch (precision)
        {
            case ScanPrecision.Int8:
                _codes.AsSpan(from * d, d).CopyTo(_codes.AsSpan(to * d, d));
                _scales[to] = _scales[from];
                break;
            case ScanPrecision.Float16:
                _halves.AsSpan(from * d, d).CopyTo(_halves.AsSpan(to * d, d));
                break;
        }
    }

    /// <summary>Forgets every vector and the dimension.</summary>
    public void Clear()
    {
        _capacity = 0;
        _vectors = [];
        _contiguous = [];
        _zeros = [];
        _codes = [];
        _scales = [];
        _halves = [];
        _signs = [];
        _signCentre = [];
        Dimensions = 0;
    }

    /// <summary>
    /// Re-encodes the sign codes of slots 0..<paramref name="count"/>-1 about <paramref name="centre"/> (the mean of the
    /// stored vectors), as later stores will be: embeddings share a large common direction, and bits taken about zero
    /// mostly repeat it. A slot with no vector keeps a code with no bit set.
    /// </summary>
    public void CentreSignCodes(ReadOnlySpan<float> centre, int count)
    {
        if (!IsApproximate || Dimensions == 0)
        {
            return;
        }

        _signCentre = centre.ToArray();
        for (var slot = 0; slot < count; slot++)
        {
            var vector = Vector(slot);
            if (TensorPrimitives.MaxMagnitude(vector) != 0)
            {
                SignCodes.Encode(vector, _signCentre, SignCode(slot));
            }
        }
    }

    /// <summary>The sign code of <paramref name="slot"/> (kept only when <see cref="IsApproximate"/>).</summary>
    public ReadOnlySpan<ulong> SignCodeOf(int slot) => SignCode(slot);

    private Span<ulong> SignCode(int slot)
    {
        var words = SignCodes.Words(Dimensions);
        return _signs.AsSpan(slot * words, words);
    }

    /// <summary>
    /// The Hamming distance of <paramref name="query"/>'s sign code to that of each of slots 0..<paramref name="count"/>-1, into
    /// <paramref name="distances"/> (a slot with no vector has no bit set). Only for a slab that <see cref="IsApproximate"/>.
    /// </summary>
    public void SignDistances(VectorQuery query, ushort[] distances, int count)
    {
        if (!IsApproximate)
        {
            throw new InvalidOperationException("A float32 slab keeps no sign codes.");
        }

        var words = query.Signs.Length;
        ParallelRanges.Run(count, ParallelScanThreshold, (_, from, to) =>
            SignCodes.Distances(_signs.AsSpan(from * words), query.Signs, distances.AsSpan(from, to - from)));
    }

    /// <summary>The normalized float32 vector in <paramref name="slot"/>.</summary>
    public ReadOnlySpan<float> Vector(int slot) => _contiguous.Length > 0 ? _contiguous.AsSpan(slot * Dimensions, Dimensions) : Stored(slot);

    // Apart from Vector, which stays small enough to inline into a small index's exact scan.
    private ReadOnlySpan<float> Stored(int slot) => _vectors[slot] is { IsEmpty: false } vector ? vector.Span : _zeros;

    /// <summary>Decodes the scan's copy of <paramref name="slot"/> into <paramref name="destination"/> (for float32, the vector itself).</summary>
    public void DecodeScanCopy(int slot, Span<float> destination)
    {
        var d = Dimensions;
        switch (precision)
        {
            case ScanPrecision.Int8:
                Int8Quantizer.Dequantize(_codes.AsSpan(slot * d, d), _scales[slot], destination);
                break;
            case ScanPrecision.Float16:
                TensorPrimitives.ConvertToSingle(_halves.AsSpan(slot * d, d), destination);
                break;
            default:
                Vector(slot).CopyTo(destination);
                break;
        }
    }

    /// <summary>Cosine similarity of two stored vectors, in float32.</summary>
    public float Similarity(int a, int b) => TensorPrimitives.Dot(Vector(a), Vector(b));

    /// <summary>Prepares <paramref name="query"/> for <see cref="Scan"/> and <see cref="Exact"/>, or returns null for a zero or non-finite vector.</summary>
    /// <exception cref="ArgumentException">The length differs from <see cref="Dimensions"/>.</exception>
    public VectorQuery? Prepare(ReadOnlySpan<float> query)
    {
        if (query.Length != Dimensions)
        {
            throw new ArgumentException(
                $"Query embedding has {query.Length} dimensions; this index holds {Dimensions}-dimensional embeddings.", nameof(query));
        }

        var norm = TensorPrimitives.Norm(query);
        if (!(norm > 0) || !float.IsFinite(norm))
        {
            return null;
        }

        var normalized = new float[query.Length];
        TensorPrimitives.Divide(query, norm, normalized);
        return Quantized(new VectorQuery(normalized));
    }

    /// <summary>
    /// <paramref name="query"/> (from <see cref="Prepare"/>) minus <paramref name="weight"/> times the mean of the stored
    /// vectors (<paramref name="sum"/> over <paramref name="count"/>): its similarity to a memory is the cosine less the
    /// weighted similarity of the memory to the mean, so what every memory shares counts less (see
    /// <see cref="HybridSearchOptions.Centering"/>).
    /// </summary>
    public VectorQuery Centred(VectorQuery query, ReadOnlySpan<double> sum, int count, double weight)
    {
        var shifted = new float[query.Vector.Length];
        var squaredNorm = 0.0;
        for (var i = 0; i < shifted.Length; i++)
        {
            var mean = sum[i] / count;
            squaredNorm += mean * mean;
            shifted[i] = (float)(query.Vector[i] - (weight * mean));
        }

        return Quantized(new VectorQuery(shifted) { Shift = (float)(weight * squaredNorm) });
    }

    private VectorQuery Quantized(VectorQuery query)
    {
        if (IsApproximate)
        {
            // A query's signs about zero: its similarity to x - centre ranks the memories as its similarity to x does.
            query.Signs = new ulong[SignCodes.Words(query.Vector.Length)];
            SignCodes.Encode(query.Vector, [], query.Signs);
        }

        if (precision == ScanPrecision.Int8)
        {
            query.Codes = new sbyte[query.Vector.Length];
            query.Scale = Int8Quantizer.Quantize(query.Vector, query.Codes);
        }

        return query;
    }

    /// <summary>The float32 cosine similarity of <paramref name="query"/> and the vector in <paramref name="slot"/>.</summary>
    public float Exact(VectorQuery query, int slot) => TensorPrimitives.Dot(Vector(slot), query.Vector);

    /// <summary>
    /// Writes the scan's similarity of <paramref name="query"/> with slots 0..<paramref name="count"/>-1 into
    /// <paramref name="scores"/>: exact for <see cref="ScanPrecision.Float32"/>, approximate otherwise. Slots with no
    /// vector hold zeros and score 0.
    /// </summary>
    /// <param name="query">From <see cref="Prepare"/>.</param>
    /// <param name="count">How many slots, from 0.</param>
    /// <param name="scores">Receives a score per slot.</param>
    /// <param name="exact">Scan the float32 vectors whatever the precision (for small indexes, where rescoring would cost more than it saves).</param>
    public void Scan(VectorQuery query, int count, float[] scores, bool exact = false)
    {
        // One core streams about 40 MB of int8 codes (100k vectors) in a few milliseconds, held back by memory more than
        // arithmetic; a second core's loads cut that (fastest scan 4.9 ms -> 2.7 ms on two busy cores).
        ParallelRanges.Run(count, ParallelScanThreshold, (_, from, to) => ScanVectors(query, from, [], scores.AsSpan(from, to - from), exact));
    }

    /// <summary>
    /// Writes the scan's approximate similarity of <paramref name="query"/> with the vector in <c>slots[i]</c> into
    /// <c>scores[i]</c>, for the first <paramref name="count"/> of a shortlist of slots (in any order). Only for a slab
    /// that <see cref="IsApproximate"/>.
    /// </summary>
    public void ScanSlots(VectorQuery query, int[] slots, int count, float[] scores)
    {
        if (!IsApproximate)
        {
            throw new InvalidOperationException("A float32 slab scans every slot exactly.");
        }

        ParallelRanges.Run(count, ParallelShortlistThreshold, (_, from, to) =>
            ScanVectors(query, 0, slots.AsSpan(from, to - from), scores.AsSpan(from, to - from), exact: false));
    }

    // Scores the vectors first.., or slots[i] when slots are given, into output.
    private void ScanVectors(VectorQuery query, int first, ReadOnlySpan<int> slots, Span<float> output, bool exact)
    {
        var d = Dimensions;
        var count = output.Length;
        var gathered = !slots.IsEmpty;
        switch (exact ? ScanPrecision.Float32 : precision)
        {
            case ScanPrecision.Int8 when gathered:
                Int8Quantizer.Scan(_codes, _scales, query.Codes, query.Scale, output, slots);
                break;
            case ScanPrecision.Int8:
                Int8Quantizer.Scan(_codes.AsSpan(first * d, count * d), _scales.AsSpan(first, count), query.Codes, query.Scale, output);
                break;
            case ScanPrecision.Float16:
                Span<float> widened = d <= 1024 ? stackalloc float[d] : new float[d];
                for (var i = 0; i < count; i++)
                {
                    var slot = gathered ? slots[i] : first + i;
                    TensorPrimitives.ConvertToSingle(_halves.AsSpan(slot * d, d), widened);
                    output[i] = TensorPrimitives.Dot(widened, query.Vector);
                }

                break;
            default:
                for (var i = 0; i < count; i++)
                {
                    output[i] = TensorPrimitives.Dot(Vector(gathered ? slots[i] : first + i), query.Vector);
                }

                break;
        }
    }

    private void Zero(int slot)
    {
        var d = Dimensions;
        if (d == 0)
        {
            return;
        }

        _vectors[slot] = default;
        if (_contiguous.Length > 0)
        {
            _contiguous.AsSpan(slot * d, d).Clear();
        }

        if (IsApproximate)
        {
            SignCode(slot).Clear();
        }

        switch (precision)
        {
            case ScanPrecision.Int8:
                _codes.AsSpan(slot * d, d).Clear();
                _scales[slot] = 0;
                break;
            case ScanPrecision.Float16:
                _halves.AsSpan(slot * d, d).Clear();
                break;
        }
    }

    private void Resize()
    {
        var length = _capacity * Dimensions;
        if (_capacity <= ContiguousCapacity)
        {
            Array.Resize(ref _contiguous, length);
        }
        else
        {
            _contiguous = []; // past it, slots read the vectors they were given
        }

        if (_zeros.Length != Dimensions)
        {
            _zeros = new float[Dimensions];
        }

        if (IsApproximate)
        {
            Array.Resize(ref _signs, _capacity * SignCodes.Words(Dimensions));
        }

        switch (precision)
        {
            case ScanPrecision.Int8:
                Array.Resize(ref _codes, length);
                Array.Resize(ref _scales, _capacity);
                break;
            case ScanPrecision.Float16:
                Array.Resize(ref _halves, length);
                break;
        }
    }
}
