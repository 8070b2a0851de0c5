using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Voxon.Memory.Search;

namespace Voxon.Tests.Memory.Search;

/// <summary>
/// The compact scan copies of <see cref="HybridMemoryIndex"/>: int8 quantization bounds, the SIMD dot kernel, and
/// searches over int8 and float16 scans returning what the exact float32 scan returns, on seeded random sets.
/// </summary>
public class QuantizedScanTests
{
    private const int Dimensions = 384;

    private static readonly string[] Words = ["red", "green", "blue", "coffee", "garden", "train", "violin", "river", "paper", "lamp"];

    internal static float[] RandomVector(Random random, int dimensions = Dimensions, float spread = 1f)
    {
        var vector = new float[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)((random.NextDouble() * 2) - 1) * spread;
        }

        return vector;
    }

    // Clusters of near-duplicates, so that many memories score within int8's error of each other.
    internal static float[][] ClusteredVectors(Random random, int count, int clusters)
    {
        var centres = Enumerable.Range(0, clusters).Select(_ => RandomVector(random)).ToArray();
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var noise = RandomVector(random, spread: 0.05f);
            TensorPrimitives.Add(noise, centres[i % clusters], noise);
            return noise;
        })];
    }

    internal static string RandomText(Random random) =>
        string.Join(' ', Enumerable.Range(0, 3).Select(_ => Words[random.Next(Words.Length)]));

    // A small candidate window, so that the rescored shortlist (3 windows) is a small part of the index.
    private static HybridSearchOptions Options(ScanPrecision scan, double floor = 0.15) =>
        new() { Scan = scan, CandidateWindow = 10, SemanticFloor = floor };

    internal static HybridMemoryIndex IndexOf(HybridSearchOptions options, IEnumerable<(string Id, string Text, float[] Vector)> memories)
    {
        var index = new HybridMemoryIndex(options);
        foreach (var (id, text, vector) in memories)
        {
            index.Upsert(id, text, vector);
        }

        return index;
    }

    /// <summary>
    /// Random adds, removes, updates and updates to lexical-only (no vector) on <paramref name="index"/>; returns what
    /// it should hold by id.
    /// </summary>
    internal static Dictionary<string, (string Text, float[] Vector)> Churn(
        HybridMemoryIndex index, Random random, int steps, int ids, Func<Random, float[]> newVector)
    {
        var mirror = new Dictionary<string, (string Text, float[] Vector)>();
        for (var step = 0; step < steps; step++)
        {
            var id = $"m{random.Next(ids):D4}";
            switch (random.Next(10))
            {
                case < 2:
                    // Removing moves the last slot (its vector and codes) into the freed one.
                    index.Remove(id);
                    mirror.Remove(id);
                    break;
                case 2:
                    // An update to lexical-only: the slot's vectors must stop scoring.
                    var text = RandomText(random);
                    index.Upsert(id, text, ReadOnlyMemory<float>.Empty);
                    mirror[id] = (text, []);
                    break;
                default:
                    var (words, vector) = (RandomText(random), newVector(random));
                    index.Upsert(id, words, vector);
                    mirror[id] = (words, vector);
                    break;
            }
        }

        return mirror;
    }

    /// <summary>A slab of <paramref name="count"/> random 128-dimensional vectors, and a random query prepared for it.</summary>
    internal static (VectorSlab Slab, VectorQuery Query) RandomSlab(ScanPrecision precision, Random random, int count)
    {
        const int Dimensions128 = 128;
        var slab = new VectorSlab(precision);
        slab.EnsureCapacity(count);
        for (var slot = 0; slot < count; slot++)
        {
            slab.Store(slot, RandomVector(random, Dimensions128));
        }

        return (slab, slab.Prepare(RandomVector(random, Dimensions128))!);
    }

    internal static void AssertSameHits(IReadOnlyList<MemorySearchHit> expected, IReadOnlyList<MemorySearchHit> actual)
    {
        Assert.Equal(expected.Select(h => h.Id), actual.Select(h => h.Id));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].SemanticScore, actual[i].SemanticScore, 6);
            Assert.Equal(expected[i].Score, actual[i].Score, 6);
        }
    }

    [Theory]
    [InlineData(1, 1f)]
    [InlineData(31, 0.001f)]
    [InlineData(384, 1f)]
    [InlineData(385, 1000f)]
    public void Int8_round_trip_is_within_half_a_step_and_the_largest_component_gets_the_largest_code(int dimensions, float spread)
    {
        var random = new Random(dimensions);
        for (var round = 0; round < 20; round++)
        {
            var vector = RandomVector(random, dimensions, spread);
            var codes = new sbyte[dimensions];
            var scale = Int8Quantizer.Quantize(vector, codes);
            var decoded = new float[dimensions];
            Int8Quantizer.Dequantize(codes, scale, decoded);

            var largest = TensorPrimitives.IndexOfMaxMagnitude(vector);
            Assert.Equal(Int8Quantizer.MaxCode, Math.Abs((int)codes[largest]));
            Assert.Equal(Math.Abs(vector[largest]) / Int8Quantizer.MaxCode, scale, 6);
            for (var i = 0; i < dimensions; i++)
            {
                Assert.InRange(codes[i], -Int8Quantizer.MaxCode, Int8Quantizer.MaxCode);
                Assert.True(Math.Abs(vector[i] - decoded[i]) <= (scale / 2) * 1.0001f, $"component {i}: {vector[i]} decoded as {decoded[i]} (scale {scale})");
            }
        }
    }

    [Theory]
    [InlineData(32)]
    [InlineData(384)]
    [InlineData(389)]
    public void Int8_codes_are_each_component_scaled_rounded_to_even_and_clamped_in_place(int dimensions)
    {
        var random = new Random(dimensions);
        var codes = new sbyte[dimensions];

        // With 127 the largest component, the others scale to themselves: halves, where rounding to even decides.
        var halves = Enumerable.Range(0, dimensions).Select(i => i == 1 ? -127f : random.Next(-253, 254) / 2f).ToArray();
        Assert.Equal(1f, Int8Quantizer.Quantize(halves, codes));
        Assert.Equal(halves.Select(x => (sbyte)MathF.Round(x, MidpointRounding.ToEven)), codes);

        for (var round = 0; round < 20; round++)
        {
            var vector = RandomVector(random, dimensions, 1f);
            var inverse = Int8Quantizer.MaxCode / Math.Abs(TensorPrimitives.MaxMagnitude(vector.AsSpan()));
            Int8Quantizer.Quantize(vector, codes);
            Assert.Equal(vector.Select(x => (sbyte)Math.Clamp((int)MathF.Round(x * inverse), -Int8Quantizer.MaxCode, Int8Quantizer.MaxCode)), codes);
        }
    }

    [Fact]
    public void Int8_quantization_of_a_zero_or_non_finite_vector_has_zero_scale_and_codes()
    {
        var codes = new sbyte[] { 5, 5, 5 };

        Assert.Equal(0, Int8Quantizer.Quantize([0f, 0f, 0f], codes));
        Assert.Equal([0, 0, 0], codes);
        codes[1] = 9;
        Assert.Equal(0, Int8Quantizer.Quantize([1f, float.NaN, 0f], codes));
        Assert.Equal([0, 0, 0], codes);
        Assert.Throws<ArgumentException>(() => Int8Quantizer.Quantize([1f, 2f], codes));
    }

    [Fact]
    public void Int8_dot_product_equals_the_scalar_sum_for_every_length_and_the_extreme_codes()
    {
        var random = new Random(7);
        foreach (var length in new[] { 0, 1, 15, 16, 17, 31, 32, 33, 64, 100, 384, 385 })
        {
            var a = new sbyte[length];
            var b = new sbyte[length];
            for (var round = 0; round < 10; round++)
            {
                for (var i = 0; i < length; i++)
                {
                    a[i] = (sbyte)random.Next(-127, 128);
                    b[i] = (sbyte)random.Next(-127, 128);
                }

                Assert.Equal(a.Zip(b, (x, y) => x * y).Sum(), Int8Quantizer.Dot(a, b));
            }

            // Every pair at the extremes: the 16-bit pair sums of the kernel must not saturate.
            Array.Fill(a, (sbyte)-127);
            Array.Fill(b, (sbyte)-127);
            Assert.Equal(length * 127 * 127, Int8Quantizer.Dot(a, b));
            Array.Fill(b, (sbyte)127);
            Assert.Equal(-length * 127 * 127, Int8Quantizer.Dot(a, b));
        }
    }

    [Theory]
    [InlineData(128)]
    [InlineData(384)]
    [InlineData(100)]
    public void Int8_batch_scan_scores_each_vector_or_shortlisted_slot_like_the_single_dot_product(int dimensions)
    {
        var random = new Random(dimensions);
        const int Count = 37;
        var codes = new sbyte[Count * dimensions];
        var query = new sbyte[dimensions];
        var scales = Enumerable.Range(0, Count).Select(_ => (float)random.NextDouble()).ToArray();
        for (var i = 0; i < codes.Length; i++)
        {
            codes[i] = (sbyte)random.Next(-127, 128);
        }

        for (var i = 0; i < dimensions; i++)
        {
            query[i] = (sbyte)random.Next(-127, 128);
        }

        var scores = new float[Count];
        Int8Quantizer.Scan(codes, scales, query, 0.5f, scores);

        for (var i = 0; i < Count; i++)
        {
            Assert.Equal(Int8Quantizer.Dot(codes.AsSpan(i * dimensions, dimensions), query) * scales[i] * 0.5f, scores[i]);
        }

        // A shortlist of slots, in any order and with repeats, as the sign prefilter passes it.
        int[] slots = [Count - 1, 3, 17, 3, 0];
        var shortlist = new float[slots.Length];
        Int8Quantizer.Scan(codes, scales, query, 0.5f, shortlist, slots);
        Assert.Equal(slots.Select(slot => scores[slot]), shortlist);
        Assert.Throws<ArgumentException>(() => Int8Quantizer.Scan(codes, scales, query, 1, shortlist, [1, Count, 2, 3, 4]));
        Assert.Throws<ArgumentException>(() => Int8Quantizer.Scan(codes, scales, query, 1, shortlist, [1, 2]));
    }

    [Theory]
    [InlineData(nameof(ScanPrecision.Int8))]
    [InlineData(nameof(ScanPrecision.Float16))]
    [InlineData(nameof(ScanPrecision.Float32))]
    public void Scan_split_across_cores_scores_every_slot_like_the_float32_cosine(string precision)
    {
        var count = VectorSlab.ParallelScanThreshold + 1_001;
        var (slab, query) = RandomSlab(Enum.Parse<ScanPrecision>(precision), new Random(3), count);
        var scores = new float[count];
        slab.Scan(query, count, scores);

        for (var slot = 0; slot < count; slot++)
        {
            Assert.True(Math.Abs(scores[slot] - slab.Exact(query, slot)) < 0.01, $"slot {slot}: scanned {scores[slot]}, exact {slab.Exact(query, slot)}");
        }
    }

    [Fact]
    public void Int8_cosine_of_normalized_vectors_is_close_to_float32()
    {
        var random = new Random(11);
        var worst = 0.0;
        for (var round = 0; round < 500; round++)
        {
            var x = RandomVector(random);
            var y = RandomVector(random);
            TensorPrimitives.Divide(x, TensorPrimitives.Norm(x), x);
            TensorPrimitives.Divide(y, TensorPrimitives.Norm(y), y);
            var (cx, cy) = (new sbyte[Dimensions], new sbyte[Dimensions]);
            var scales = Int8Quantizer.Quantize(x, cx) * Int8Quantizer.Quantize(y, cy);
            var approximate = Int8Quantizer.Dot(cx, cy) * scales;
            worst = Math.Max(worst, Math.Abs(approximate - TensorPrimitives.Dot(x, y)));
        }

        // Far inside the rescoring margin of the index (0.02).
        Assert.InRange(worst, 0, 0.005);
    }

    [Theory]
    [InlineData(nameof(ScanPrecision.Int8))]
    [InlineData(nameof(ScanPrecision.Float16))]
    public void Rescored_scan_returns_the_float32_top_results_on_a_seeded_set(string precision)
    {
        var scan = Enum.Parse<ScanPrecision>(precision);
        var random = new Random(2024);
        var vectors = ClusteredVectors(random, 3_000, clusters: 30);
        var memories = vectors.Select((v, i) => ($"m{i:D4}", RandomText(random), v)).ToArray();
        var exact = IndexOf(Options(ScanPrecision.Float32), memories);
        var quantized = IndexOf(Options(scan), memories);

        for (var q = 0; q < 40; q++)
        {
            // Half the queries sit inside a cluster, where near-ties are densest.
            var query = q % 2 == 0 ? RandomVector(random) : vectors[random.Next(vectors.Length)].Select(x => x + ((float)random.NextDouble() * 0.02f)).ToArray();
            var text = q % 4 < 2 ? "" : RandomText(random);
            AssertSameHits(exact.Search(text, query, topK: 10), quantized.Search(text, query, topK: 10));
            AssertSameHits(exact.Search(text, query, topK: 50), quantized.Search(text, query, topK: 50));

            // A filter that turns away most of the best candidates leaves fewer than a window above the scan's edge:
            // the rescored shortlist then reaches below it, and the result is still the float32 one.
            var cluster = vectors[random.Next(vectors.Length)];
            bool Rare(string id) => int.Parse(id.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture) % 7 == 0;
            var filtered = quantized.Search(text, cluster, topK: 10, filter: Rare);
            AssertSameHits(exact.Search(text, cluster, topK: 10, filter: Rare), filtered);
            Assert.All(filtered, hit => Assert.True(Rare(hit.Id)));
        }
    }

    [Fact]
    public void A_float32_scan_asks_the_filter_only_about_memories_the_window_would_take()
    {
        var random = new Random(7);
        var memories = Enumerable.Range(0, 1_000).Select(i => ($"m{i:D4}", "", RandomVector(random))).ToArray();
        // Plain cosine ranking (no centring, no diversity), every memory above the floor.
        var index = IndexOf(new HybridSearchOptions { Scan = ScanPrecision.Float32, CandidateWindow = 10, SemanticFloor = -1, Centering = 0, Diversity = 0 }, memories);
        static bool Even(string id) => int.Parse(id.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture) % 2 == 0;
        for (var q = 0; q < 10; q++)
        {
            var query = RandomVector(random);
            var asked = 0;
            var hits = index.Search("", query, topK: 5, filter: id => ++asked > 0 && Even(id));

            // The best five even memories by cosine, as if every memory had been asked about.
            var expected = memories.Where(m => Even(m.Item1))
                .OrderByDescending(m => TensorPrimitives.CosineSimilarity(m.Item3, query)).ThenBy(m => m.Item1, StringComparer.Ordinal)
                .Take(5).Select(m => m.Item1);
            Assert.Equal(expected, hits.Select(h => h.Id));
            // First the memories at or above the similarity that about a window (10) reach are asked about, then, as the
            // filter turned half of them away, only those below that would beat the window's worst: a few dozen, not the
            // thousand that would each cost a filter call (nor the 86-110 that beat the worst in slot order).
            Assert.InRange(asked, 10, 80);
        }
    }

    [Fact]
    public void Adds_removes_and_updates_keep_the_int8_index_equal_to_a_float32_index_of_the_same_memories()
    {
        var random = new Random(99);
        // No floor: every memory with a vector is a semantic candidate.
        var index = new HybridMemoryIndex(Options(ScanPrecision.Int8, floor: -1));
        var mirror = Churn(index, random, steps: 3_000, ids: 400, r => RandomVector(r));

        var reference = IndexOf(Options(ScanPrecision.Float32, floor: -1), mirror.Select(m => (m.Key, m.Value.Text, m.Value.Vector)));
        Assert.Equal(reference.Count, index.Count);
        Assert.True(index.Count > 4 * 3 * 10, "large enough for the scan to be approximate (more than four shortlists of 3 windows of 10)");
        Assert.Contains(mirror.Values, m => m.Vector.Length == 0);
        for (var q = 0; q < 40; q++)
        {
            // Near a stored vector, so that the shortlist is decided by small differences the codes must get right.
            var (_, near) = mirror.Values.ElementAt(random.Next(mirror.Count));
            var query = near.Length > 0 && q % 2 == 0 ? near.Select(x => x + ((float)random.NextDouble() * 0.3f)).ToArray() : RandomVector(random);
            var text = q % 4 < 2 ? "" : RandomText(random);
            AssertSameHits(reference.Search(text, query, topK: 10), index.Search(text, query, topK: 10));
        }

        // Lexical-only memories never score semantically, whatever their slot held before.
        var semanticIds = index.Search("", RandomVector(random), topK: 1_000).Where(h => h.SemanticScore != 0).Select(h => h.Id);
        Assert.All(semanticIds, id => Assert.NotEmpty(mirror[id].Vector));
    }

    [Theory]
    [InlineData(nameof(ScanPrecision.Int8))]
    [InlineData(nameof(ScanPrecision.Float16))]
    public void Slab_keeps_both_copies_of_a_slot_together_through_store_move_and_clear(string precision)
    {
        var scan = Enum.Parse<ScanPrecision>(precision);
        var random = new Random(5);
        var slab = new VectorSlab(scan);
        slab.EnsureCapacity(4);
        var (first, second) = (RandomVector(random, 8), RandomVector(random, 8));
        Assert.True(slab.Store(0, first));
        Assert.True(slab.Store(1, second));

        slab.Move(1, 0);
        AssertCopiesAgree(slab, 0, second);
        Assert.False(slab.Store(1, ReadOnlyMemory<float>.Empty));
        AssertCopiesAgree(slab, 1, new float[8]);
        slab.EnsureCapacity(64); // growing keeps what is stored
        AssertCopiesAgree(slab, 0, second);
        Assert.Throws<ArgumentException>(() => slab.Store(2, new float[9]));

        slab.Clear();
        Assert.Equal(0, slab.Dimensions);
        slab.EnsureCapacity(1);
        Assert.True(slab.Store(0, new float[3] { 0, 3, 4 }));
        AssertCopiesAgree(slab, 0, [0, 0.6f, 0.8f]);
    }

    [Fact]
    public void A_large_slab_reads_unit_length_embeddings_in_place_and_a_small_one_keeps_them_contiguous()
    {
        // The memories' embeddings are unit length (every encoder normalizes): past ContiguousCapacity the index reads
        // them where they are rather than holding a float32 copy of every memory; a small index keeps a contiguous copy
        // for its exact scans. Vectors of any other length are normalized into a copy either way.
        var random = new Random(9);
        var unit = RandomVector(random, 384);
        TensorPrimitives.Divide(unit, TensorPrimitives.Norm(unit), unit);
        var longer = unit.Select(x => x * 3).ToArray();
        bool InPlace(VectorSlab slab, int slot, float[] vector) => Unsafe.AreSame(ref MemoryMarshal.GetReference(slab.Vector(slot)), ref vector[0]);
        void AssertUnit(VectorSlab slab, int slot) => Assert.All(Enumerable.Range(0, 384), i => Assert.Equal(unit[i], slab.Vector(slot)[i], 1e-6));

        var slab = new VectorSlab(ScanPrecision.Int8);
        slab.EnsureCapacity(2);
        Assert.True(slab.Store(0, unit));
        Assert.True(slab.Store(1, longer));
        Assert.False(InPlace(slab, 0, unit), "a small slab reads its contiguous copy");
        AssertUnit(slab, 0);
        AssertUnit(slab, 1);

        slab.EnsureCapacity(VectorSlab.ContiguousCapacity + 1); // past it the copy goes, and what is stored stays
        Assert.True(InPlace(slab, 0, unit), "a unit-length embedding is read in place");
        Assert.False(InPlace(slab, 1, longer), "any other is copied, normalized");
        Assert.Equal(3.0, longer[0] / unit[0], 1e-5); // the caller's vector is left as it was
        AssertUnit(slab, 0);
        AssertUnit(slab, 1);
        slab.Move(1, 0);
        Assert.False(InPlace(slab, 0, unit));
        AssertUnit(slab, 0);
        Assert.False(slab.Store(1, ReadOnlyMemory<float>.Empty));
        Assert.All(Enumerable.Range(0, 384), i => Assert.Equal(0f, slab.Vector(1)[i]));
    }

    [Theory]
    [InlineData(nameof(ScanPrecision.Int8))]
    [InlineData(nameof(ScanPrecision.Float32))]
    public void A_bulk_build_indexes_what_upserting_one_at_a_time_does_and_rejects_a_bad_item_before_changing_anything(string precision)
    {
        // Large enough for the build's parallel path; ids repeat and some are indexed already (upserted, not added twice),
        // the first vectors are empty or zero (the first real one settles the dimensions), and some are not unit length.
        var options = Options(Enum.Parse<ScanPrecision>(precision), floor: -1);
        var random = new Random(31);
        (string Id, string Text, float[] Vector) Item(int i) => ($"m{random.Next(2_600):D4}", $"{RandomText(random)} word{i % 97}",
            i < 3 ? (i == 1 ? new float[Dimensions] : []) : i % 50 == 0 ? [] : RandomVector(random, spread: i % 3 == 0 ? 1f : 0.01f));
        var earlier = Enumerable.Range(0, 200).Select(Item).ToArray();
        var items = Enumerable.Range(0, 3 * HybridMemoryIndex.ParallelBuildThreshold).Select(Item).ToArray();
        Assert.Contains(items, item => earlier.Any(e => e.Id == item.Id));
        Assert.True(items.DistinctBy(item => item.Id).Count() < items.Length, "some ids repeat");

        var oneByOne = IndexOf(options, earlier.Concat(items));
        var bulk = IndexOf(options, earlier);
        bulk.UpsertMany(items.Select((item, i) => (item, i)).ToArray(), x => new IndexItem(x.item.Id, x.item.Text, x.item.Vector, default, $"{x.item.Id}#{x.i}"));

        Assert.Equal(oneByOne.Count, bulk.Count);
        Assert.Equal(oneByOne.Dimensions, bulk.Dimensions);
        for (var q = 0; q < 30; q++)
        {
            var text = q % 3 == 0 ? "" : RandomText(random) + $" word{random.Next(97)}";
            var query = q % 3 == 1 ? ReadOnlyMemory<float>.Empty : RandomVector(random);
            AssertSameHits(oneByOne.Search(text, query, topK: 20), bulk.Search(text, query, topK: 20));
        }

        // Each memory keeps the tag of its last upsert (none for those only upserted before): a filter reads it.
        var seen = new List<object?>();
        bulk.SearchTagged("", RandomVector(random), topK: 5_000, filter: tag => { seen.Add(tag); return true; });
        Assert.True(seen.Count > 1_000, $"{seen.Count} memories asked about");
        var latest = items.Select((item, i) => (item.Id, Tag: $"{item.Id}#{i}", HasVector: item.Vector.Any(x => x != 0)))
            .GroupBy(t => t.Id).Select(g => g.Last()).ToArray();
        Assert.Equal(latest.Where(t => t.HasVector).Select(t => t.Tag).Order(), seen.OfType<string>().Order());

        // An item whose vector has other dimensions, or no id, is reported and nothing is indexed.
        var before = bulk.Search("red green blue", RandomVector(new Random(1)), topK: 50);
        var wrong = items.Select((item, i) => i == items.Length - 5 ? (item.Id, item.Text, RandomVector(random, Dimensions + 1)) : item).ToArray();
        Assert.Throws<ArgumentException>(() => bulk.UpsertMany(wrong.Select(item => item with { Id = "new" + item.Id }).ToArray(),
            item => new IndexItem(item.Id, item.Text, item.Item3, default, null)));
        Assert.Throws<ArgumentNullException>(() => bulk.UpsertMany(items, item => new IndexItem(item.Id == items[^1].Id ? null! : "new" + item.Id, item.Text, item.Vector, default, null)));
        Assert.Equal(oneByOne.Count, bulk.Count);
        AssertSameHits(before, bulk.Search("red green blue", RandomVector(new Random(1)), topK: 50));
    }

    private static void AssertCopiesAgree(VectorSlab slab, int slot, float[] expected)
    {
        var norm = TensorPrimitives.Norm(expected);
        var normalized = norm > 0 ? expected.Select(x => x / norm).ToArray() : expected;
        var decoded = new float[slab.Dimensions];
        slab.DecodeScanCopy(slot, decoded);
        for (var i = 0; i < normalized.Length; i++)
        {
            Assert.Equal(normalized[i], slab.Vector(slot)[i], 6);
            Assert.Equal(normalized[i], decoded[i], 2);
        }
    }
}
