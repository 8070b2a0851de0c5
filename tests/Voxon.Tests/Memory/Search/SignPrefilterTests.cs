using System.Globalization;
using Voxon.Memory.Search;
using static Voxon.Tests.Memory.Search.QuantizedScanTests;

namespace Voxon.Tests.Memory.Search;

/// <summary>
/// The sign-code prefilter of large indexes (<see cref="HybridSearchOptions.SignPrefilterFrom"/>, lowered here so that a
/// few thousand memories trigger it): the codes and their distances, the gathered int8 scan, searches that return the
/// float32 results, and codes kept right through adds, removes and updates.
/// </summary>
public class SignPrefilterTests
{
    private const int Memories = 6_000;

    // Prefilter from 1,000 memories: 6,000 keep 375 candidates (a sixteenth), 10 windows of 10 below that.
    private static HybridSearchOptions Options(ScanPrecision scan, double floor = 0.15, int prefilterFrom = 1_000) =>
        new() { Scan = scan, CandidateWindow = 10, SemanticFloor = floor, SignPrefilterFrom = prefilterFrom };

    private static int Number(string id) => int.Parse(id.AsSpan(1), CultureInfo.InvariantCulture);

    private static float[] Near(Random random, float[] vector, float noise) =>
        [.. vector.Select(x => x + ((float)(random.NextDouble() - 0.5) * noise))];

    [Theory]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(384)]
    public void Sign_code_distance_counts_the_dimensions_that_differ_in_sign(int dimensions)
    {
        var random = new Random(dimensions);
        var words = SignCodes.Words(dimensions);
        var vectors = Enumerable.Range(0, 9).Select(_ => RandomVector(random, dimensions)).ToArray();
        var codes = new ulong[vectors.Length * words];
        for (var i = 0; i < vectors.Length; i++)
        {
            SignCodes.Encode(vectors[i], [], codes.AsSpan(i * words, words));
        }

        var query = RandomVector(random, dimensions);
        var queryCode = new ulong[words];
        SignCodes.Encode(query, [], queryCode);
        var distances = new ushort[vectors.Length];
        SignCodes.Distances(codes, queryCode, distances);

        for (var i = 0; i < vectors.Length; i++)
        {
            Assert.Equal(vectors[i].Zip(query, (x, q) => (x < 0) != (q < 0) ? 1 : 0).Sum(), distances[i]);
        }

        Assert.Throws<ArgumentException>(() => SignCodes.Encode(query, [], new ulong[words + 1]));
        Assert.Throws<ArgumentException>(() => SignCodes.Encode(query, new float[dimensions + 1], queryCode));

        // Bit i is set exactly where component i is below zero (not for zero, minus zero or NaN).
        var edges = RandomVector(random, dimensions);
        for (var i = 0; i < dimensions; i += 5)
        {
            edges[i] = (i / 5 % 3) switch { 0 => 0f, 1 => -0f, _ => float.NaN };
        }

        SignCodes.Encode(edges, [], queryCode);
        Assert.All(Enumerable.Range(0, dimensions), i => Assert.Equal(edges[i] < 0, (queryCode[i >> 6] >> (i & 63) & 1) == 1));

        // About a centre, a bit is set where the component is below the centre's.
        var centre = RandomVector(random, dimensions);
        SignCodes.Encode(vectors[0], centre, queryCode);
        SignCodes.Encode(vectors[0].Zip(centre, (x, c) => x - c).ToArray(), [], codes.AsSpan(0, words));
        Assert.Equal(codes.AsSpan(0, words).ToArray(), queryCode);
        Assert.Throws<ArgumentException>(() => SignCodes.Distances(codes, queryCode, new ushort[vectors.Length + 1]));
    }

    [Theory]
    [InlineData(nameof(ScanPrecision.Int8))]
    [InlineData(nameof(ScanPrecision.Float16))]
    public void Prefiltered_scan_returns_the_float32_top_10_and_50_on_a_seeded_set(string precision)
    {
        var scan = Enum.Parse<ScanPrecision>(precision);
        var random = new Random(2025);
        var vectors = ClusteredVectors(random, Memories, clusters: 60);
        var memories = vectors.Select((v, i) => ($"m{i:D4}", RandomText(random), v)).ToArray();
        var exact = IndexOf(Options(ScanPrecision.Float32), memories);
        var prefiltered = IndexOf(Options(scan), memories);

        for (var q = 0; q < 30; q++)
        {
            var query = Near(random, vectors[random.Next(vectors.Length)], noise: 0.2f);
            var text = q % 2 == 0 ? "" : RandomText(random);
            AssertSameHits(exact.Search(text, query, topK: 10), prefiltered.Search(text, query, topK: 10));
            AssertSameHits(exact.Search(text, query, topK: 50), prefiltered.Search(text, query, topK: 50));

            // A filter that passes all is asked about the rescored memories only, not about every candidate.
            var asked = 0;
            AssertSameHits(exact.Search("", query, topK: 10), prefiltered.Search("", query, topK: 10, filter: _ => ++asked > 0));
            Assert.InRange(asked, 10, Memories / 16);
        }
    }

    [Theory]
    [InlineData(7, -1)] // every cluster keeps a seventh of its memories: no floor, a window of them among the candidates
    [InlineData(3, 0.15)] // two clusters in three keep none: near those, fewer than a window reach the floor, and every vector is scanned
    public void A_filter_that_turns_most_memories_away_still_gets_the_float32_results(int oneIn, double floor)
    {
        var random = new Random(oneIn);
        var vectors = ClusteredVectors(random, Memories, clusters: 60);
        var memories = vectors.Select((v, i) => ($"m{i:D4}", RandomText(random), v)).ToArray();
        var exact = IndexOf(Options(ScanPrecision.Float32, floor), memories);
        var prefiltered = IndexOf(Options(ScanPrecision.Int8, floor), memories);
        bool Rare(string id) => Number(id) % oneIn == 0;

        for (var q = 0; q < 20; q++)
        {
            var query = Near(random, vectors[random.Next(vectors.Length)], noise: 0.2f);
            var hits = prefiltered.Search("", query, topK: 10, filter: Rare);
            AssertSameHits(exact.Search("", query, topK: 10, filter: Rare), hits);
            Assert.All(hits, hit => Assert.True(Rare(hit.Id)));
        }
    }

    [Fact]
    public void The_prefilter_leaves_out_a_close_memory_whose_signs_disagree_unless_the_filter_leaves_too_few_candidates()
    {
        var random = new Random(12);
        var memories = ClusteredVectors(random, Memories, clusters: 60).Select((v, i) => ($"m{i:D4}", "", v)).ToList();
        // The query points along the first axis; "odd" does too, so its cosine is about 0.7 where no other memory reaches
        // 0.1, but every other component of it is on the other side of zero (and of the memories' mean) from the
        // query's: its sign code is about the farthest there is.
        var query = RandomVector(random, spread: 0.01f);
        query[0] = 10;
        var odd = query.Select(x => x > 0 ? -0.5f : 0.5f).ToArray();
        odd[0] = 10;
        memories.Add(("odd", "", odd));
        var prefiltered = IndexOf(Options(ScanPrecision.Int8, floor: -1), memories);
        var whole = IndexOf(Options(ScanPrecision.Int8, floor: -1, prefilterFrom: int.MaxValue), memories);

        Assert.Equal("odd", whole.Search("", query, topK: 10)[0].Id);
        Assert.DoesNotContain(prefiltered.Search("", query, topK: 10), hit => hit.Id == "odd");
        // Five admitted memories are fewer than a window: every vector is scanned, and "odd" is found.
        bool Few(string id) => id == "odd" || id is "m0001" or "m0002" or "m0003" or "m0004";
        Assert.Equal("odd", prefiltered.Search("", query, topK: 10, filter: Few)[0].Id);
    }

    [Fact]
    public void Adds_removes_and_updates_keep_the_sign_codes_right()
    {
        var random = new Random(77);
        // Near-duplicates, so that a query near one memory has a clear top 10 for the prefilter to keep.
        var centres = ClusteredVectors(random, 30, clusters: 30);
        var index = new HybridMemoryIndex(Options(ScanPrecision.Int8, floor: -1, prefilterFrom: 100));
        var mirror = Churn(index, random, steps: 6_000, ids: 1_500, r => Near(r, centres[r.Next(centres.Length)], noise: 0.1f));

        var reference = IndexOf(Options(ScanPrecision.Float32, floor: -1), mirror.Select(m => (m.Key, m.Value.Text, m.Value.Vector)));
        Assert.True(index.Count > 16 * 4 * 10, "large enough for the prefilter to keep a sixteenth of the index");
        Assert.True(index.Count > HybridMemoryIndex.SignCodesFirstCentredAt, "large enough for the codes to have been centred on the mean");
        var withVectors = mirror.Values.Where(m => m.Vector.Length > 0).ToArray();
        for (var q = 0; q < 40; q++)
        {
            // Near one stored vector: a slot whose code is stale or another slot's falls out of the candidates.
            var query = Near(random, withVectors[random.Next(withVectors.Length)].Vector, noise: 0.2f);
            var text = q % 2 == 0 ? "" : RandomText(random);
            AssertSameHits(reference.Search(text, query, topK: 10), index.Search(text, query, topK: 10));
        }
    }

    [Theory]
    [InlineData(nameof(ScanPrecision.Int8))]
    [InlineData(nameof(ScanPrecision.Float16))]
    public void Distances_and_shortlist_scans_split_across_cores_match_each_slot_alone(string precision)
    {
        var random = new Random(4);
        var count = VectorSlab.ParallelScanThreshold + 999;
        var (slab, query) = RandomSlab(Enum.Parse<ScanPrecision>(precision), random, count);
        var distances = new ushort[count];
        slab.SignDistances(query, distances, count);
        var one = new ushort[1];
        for (var slot = 0; slot < count; slot++)
        {
            SignCodes.Distances(slab.SignCodeOf(slot), query.Signs, one);
            Assert.Equal(one[0], distances[slot]);
        }

        // A shortlist in no particular order, long enough to be split.
        var slots = Enumerable.Range(0, VectorSlab.ParallelShortlistThreshold * 3).Select(_ => random.Next(count)).ToArray();
        var scores = new float[slots.Length];
        slab.ScanSlots(query, slots, slots.Length, scores);
        var alone = new float[1];
        for (var i = 0; i < slots.Length; i++)
        {
            slab.ScanSlots(query, [slots[i]], 1, alone);
            Assert.Equal(alone[0], scores[i]);
            Assert.True(Math.Abs(scores[i] - slab.Exact(query, slots[i])) < 0.01, $"slot {slots[i]}: scanned {scores[i]}, exact {slab.Exact(query, slots[i])}");
        }
    }

    [Fact]
    public void Slab_keeps_each_slots_sign_code_through_store_move_zero_and_growth()
    {
        var random = new Random(8);
        var slab = new VectorSlab(ScanPrecision.Int8);
        slab.EnsureCapacity(3);
        var (first, second) = (RandomVector(random, 70), RandomVector(random, 70));
        slab.Store(0, first);
        slab.Store(1, second);
        AssertCode(slab, 0, first, []);

        slab.Move(1, 0);
        AssertCode(slab, 0, second, []);
        slab.Store(1, ReadOnlyMemory<float>.Empty);
        Assert.All(slab.SignCodeOf(1).ToArray(), word => Assert.Equal(0UL, word));
        slab.EnsureCapacity(100);
        AssertCode(slab, 0, second, []);
        slab.Store(0, first);
        AssertCode(slab, 0, first, []);

        // Centred on a mean: every stored code is re-encoded about it, and so is every later one; empty slots stay empty.
        var centre = RandomVector(random, 70, spread: 0.05f);
        slab.CentreSignCodes(centre, 3);
        AssertCode(slab, 0, first, centre);
        Assert.All(slab.SignCodeOf(1).ToArray(), word => Assert.Equal(0UL, word));
        slab.Store(2, second);
        AssertCode(slab, 2, second, centre);
        slab.Move(2, 1);
        AssertCode(slab, 1, second, centre);

        static void AssertCode(VectorSlab slab, int slot, float[] vector, float[] centre)
        {
            var normalized = vector.Select(x => x / System.Numerics.Tensors.TensorPrimitives.Norm(vector)).ToArray();
            var expected = new ulong[SignCodes.Words(vector.Length)];
            SignCodes.Encode(normalized, centre, expected);
            Assert.Equal(expected, slab.SignCodeOf(slot).ToArray());
        }
    }
}
