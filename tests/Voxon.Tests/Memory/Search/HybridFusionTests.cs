using Voxon.Memory.Search;

namespace Voxon.Tests.Memory.Search;

/// <summary>Semantic ranking and rank fusion of <see cref="HybridMemoryIndex"/>, with hand-made vectors.</summary>
public class HybridFusionTests
{
    // Unit axes: cosine between different axes is 0, so each test controls similarity exactly.
    private static float[] Axis(int i, float scale = 1f)
    {
        var v = new float[4];
        v[i] = scale;
        return v;
    }

    private static float[] Mix(float a, float b) => [a, b, 0, 0];

    private static string[] Ids(IReadOnlyList<MemorySearchHit> hits) => hits.Select(h => h.Id).ToArray();

    [Fact]
    public void Memory_with_no_shared_word_is_found_through_its_embedding()
    {
        var index = new HybridMemoryIndex();
        index.Upsert("job", "works as a nurse", Axis(0));
        index.Upsert("home", "lives in Lisbon", Axis(1));

        var hits = index.Search("occupation", Axis(0), topK: 5);

        var hit = Assert.Single(hits);
        Assert.Equal("job", hit.Id);
        Assert.Equal(1.0, hit.SemanticScore, 5);
        Assert.Equal(0.0, hit.LexicalScore);
    }

    [Fact]
    public void Memory_below_semantic_floor_without_lexical_match_is_not_returned()
    {
        var index = new HybridMemoryIndex(new HybridSearchOptions { SemanticFloor = 0.5 });
        index.Upsert("close", "alpha", Mix(0.6f, 0.8f));   // cosine 0.6 with the query
        index.Upsert("far", "beta", Mix(0.3f, 0.954f));    // cosine 0.3
        index.Upsert("far but named", "gamma", Mix(0.3f, 0.954f));

        var hits = index.Search("gamma", Axis(0), topK: 5);

        Assert.Equal(["close", "far but named"], Ids(hits).Order());
    }

    [Fact]
    public void Score_is_one_when_both_signals_rank_first_and_half_when_only_one_does()
    {
        var index = new HybridMemoryIndex();
        index.Upsert("both", "guitar lessons", Axis(0));
        index.Upsert("semantic only", "music tuition", Mix(0.9f, 0.436f));
        index.Upsert("lexical only", "guitar strings", Axis(2));

        var hits = index.Search("guitar lessons", Axis(0), topK: 5);

        Assert.Equal("both", hits[0].Id);
        Assert.Equal(1.0, hits[0].Score, 9);
        // Second in one ranking, absent from the other: (1/62) / (2/61).
        Assert.Equal(61.0 / 124.0, hits.Single(h => h.Id == "lexical only").Score, 9);
        Assert.Equal(61.0 / 124.0, hits.Single(h => h.Id == "semantic only").Score, 9);

        // The query's words match nothing, so the best it can get is the semantic half.
        var semanticOnly = index.Search("unrelated words", Axis(0), topK: 1);
        Assert.Equal(0.5, semanticOnly[0].Score, 9);

        // A query with no terms at all uses only the semantic signal, whose first rank is then the best possible.
        Assert.Equal(1.0, index.Search("", Axis(0), topK: 1)[0].Score, 9);
    }

    [Fact]
    public void Lexical_only_memory_takes_part_in_a_hybrid_search()
    {
        var index = new HybridMemoryIndex();
        index.Upsert("no vector", "User's cat is named Tom", ReadOnlyMemory<float>.Empty);
        index.Upsert("vector", "User likes felines", Axis(0));

        var hits = index.Search("cat", Axis(0), topK: 5);

        Assert.Equal(["no vector", "vector"], Ids(hits).Order());
        Assert.Equal(0.0, hits.Single(h => h.Id == "no vector").SemanticScore);
    }

    [Fact]
    public void Embeddings_need_not_be_normalized()
    {
        var index = new HybridMemoryIndex();
        index.Upsert("scaled", "x", Axis(0, scale: 7f));

        var hit = Assert.Single(index.Search("y", Axis(0, scale: 0.25f), topK: 1));

        Assert.Equal(1.0, hit.SemanticScore, 5);
    }

    [Fact]
    public void Removing_a_memory_keeps_the_moved_vector_with_its_id()
    {
        var index = new HybridMemoryIndex();
        index.Upsert("a", "one", Axis(0));
        index.Upsert("b", "two", Axis(1));
        index.Upsert("c", "three", Axis(2));

        index.Remove("a");  // "c" moves into slot 0

        Assert.Equal(["c"], Ids(index.Search("zzz", Axis(2), topK: 1)));
        Assert.Equal(["b"], Ids(index.Search("zzz", Axis(1), topK: 1)));
        Assert.Empty(index.Search("zzz", Axis(0), topK: 1));
    }

    [Fact]
    public void Upsert_replaces_the_embedding()
    {
        var index = new HybridMemoryIndex();
        index.Upsert("m", "text", Axis(0));

        index.Upsert("m", "text", Axis(1));

        Assert.Empty(index.Search("zzz", Axis(0), topK: 1));
        Assert.Equal(["m"], Ids(index.Search("zzz", Axis(1), topK: 1)));
    }

    [Fact]
    public void Filter_applies_to_semantic_candidates()
    {
        var index = new HybridMemoryIndex();
        index.Upsert("keep", "x", Mix(0.8f, 0.6f));
        index.Upsert("drop", "y", Axis(0));

        var hits = index.Search("", Axis(0), topK: 5, filter: id => id != "drop");

        Assert.Equal(["keep"], Ids(hits));
        Assert.Equal(1.0, hits[0].Score, 9);
    }

    [Fact]
    public void Mismatched_dimensions_throw()
    {
        var index = new HybridMemoryIndex();
        index.Upsert("a", "x", Axis(0));

        Assert.Throws<ArgumentException>(() => index.Upsert("b", "y", new float[3]));
        Assert.Throws<ArgumentException>(() => index.Search("x", new float[5], topK: 1));
        Assert.Equal(1, index.Count);

        index.Clear();
        index.Upsert("b", "y", new float[] { 1, 0, 0 });
        Assert.Equal(3, index.Dimensions);
    }
}
