using Voxon.Memory.Search;

namespace Voxon.Tests.Memory.Search;

/// <summary>Semantic ranking, fusion and diversity of <see cref="HybridMemoryIndex"/>, with hand-made vectors.</summary>
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
    public void Weighted_fusion_keeps_a_clear_lexical_winner_on_top_where_rank_fusion_loses_it()
    {
        HybridMemoryIndex Index(FusionMethod fusion)
        {
            var index = new HybridMemoryIndex(new HybridSearchOptions { Fusion = fusion });
            index.Upsert("named", "quokka passport renewal", Mix(0.6f, 0.8f));  // both rare words, cosine 0.6
            index.Upsert("close", "passport photo", Axis(0));                  // one common word, cosine 1.0
            index.Upsert("related", "travel documents", Mix(0.8f, 0.6f));      // no word, cosine 0.8
            return index;
        }

        // Ranks alone: "close" is first semantically and second lexically, "named" first and third.
        Assert.Equal("close", Index(FusionMethod.ReciprocalRank).Search("quokka passport", Axis(0), topK: 3)[0].Id);

        var hits = Index(FusionMethod.Weighted).Search("quokka passport", Axis(0), topK: 3);
        Assert.Equal(["named", "close", "related"], Ids(hits));
        Assert.All(hits, h => Assert.InRange(h.Score, 0, 1));
    }

    [Fact]
    public void Weighted_score_is_one_when_best_by_both_signals_and_at_most_half_when_only_one_signal_matches()
    {
        // Plain cosine, so the expected semantic part is computed from the vectors alone.
        var index = new HybridMemoryIndex(new HybridSearchOptions { Centering = 0 });
        index.Upsert("both", "guitar lessons", Axis(0));
        index.Upsert("semantic only", "music tuition", Mix(0.9f, 0.436f));
        index.Upsert("lexical only", "guitar strings", Axis(2));

        var hits = index.Search("guitar lessons", Axis(0), topK: 5);

        Assert.Equal("both", hits[0].Id);
        Assert.Equal(1.0, hits[0].Score, 9);
        var lexicalOnly = hits.Single(h => h.Id == "lexical only");
        Assert.Equal(0.5 * lexicalOnly.LexicalScore / hits[0].LexicalScore, lexicalOnly.Score, 9);
        var semanticOnly = hits.Single(h => h.Id == "semantic only");
        Assert.Equal(0.5 * (0.9 - 0.15) / (1 - 0.15), semanticOnly.Score, 3);

        // Words that match nothing: the semantic half is the best there is.
        Assert.Equal(0.5, index.Search("unrelated words", Axis(0), topK: 1)[0].Score, 9);

        // No embedding with the query: lexical alone, so its best is 1 and the rest keep their BM25 ratio.
        var lexical = index.Search("guitar lessons", ReadOnlyMemory<float>.Empty, topK: 5);
        Assert.Equal(["both", "lexical only"], Ids(lexical));
        Assert.Equal(1.0, lexical[0].Score, 9);
        Assert.Equal(lexical[1].LexicalScore / lexical[0].LexicalScore, lexical[1].Score, 9);

        // No terms at all: semantic alone.
        Assert.Equal(1.0, index.Search("", Axis(0), topK: 1)[0].Score, 9);
    }

    [Fact]
    public void Diversity_keeps_two_distinct_facts_in_the_top_k()
    {
        HybridMemoryIndex Index(double diversity)
        {
            var index = new HybridMemoryIndex(new HybridSearchOptions { Diversity = diversity });
            index.Upsert("sister", "User's sister lives in Oslo", Axis(0));
            index.Upsert("sister again", "User's sister moved to Oslo", Mix(0.99f, 0.141f));
            index.Upsert("brother", "User's brother lives in Rome", Mix(0.7f, 0.714f));
            return index;
        }

        Assert.Equal(["sister", "sister again"], Ids(Index(0).Search("where are the siblings", Axis(0), topK: 2)));
        Assert.Equal(["sister", "brother"], Ids(Index(0.5).Search("where are the siblings", Axis(0), topK: 2)));
    }

    [Fact]
    public void Centring_ranks_a_memory_that_says_something_specific_above_one_like_every_other()
    {
        HybridMemoryIndex Index(double centering)
        {
            // Most memories lean the same way (axis 0), as a speaker's small talk does; "specific" points elsewhere too.
            var index = new HybridMemoryIndex(new HybridSearchOptions { Centering = centering, Diversity = 0 });
            index.Upsert("generic", "how was your weekend", Axis(0));
            index.Upsert("chat 1", "long story", new float[] { 0.95f, 0, 0.312f, 0 });
            index.Upsert("chat 2", "still raining here", new float[] { 0.95f, 0, -0.312f, 0 });
            index.Upsert("chat 3", "laundry is piling up", new float[] { 0.95f, 0, 0, 0.312f });
            index.Upsert("specific", "started a pottery class", Mix(0.6f, 0.8f));
            return index;
        }

        float[] query = [0.9f, 0.436f, 0, 0];  // cosine 0.9 with "generic", 0.889 with "specific"

        Assert.Equal(["generic"], Ids(Index(0).Search("new hobby", query, topK: 1)));
        var hit = Index(0.5).Search("new hobby", query, topK: 1).Single();
        Assert.Equal("specific", hit.Id);
        Assert.Equal(0.8888, hit.SemanticScore, 3);  // reported as the plain cosine
    }

    [Fact]
    public void Centring_follows_memories_replaced_and_removed()
    {
        var options = new HybridSearchOptions { Centering = 1, Diversity = 0, SemanticFloor = -1 };
        var changed = new HybridMemoryIndex(options);
        changed.Upsert("a", "alpha", Axis(0));
        changed.Upsert("b", "beta", Axis(1));
        changed.Upsert("c", "gamma", Axis(2));
        changed.Remove("a");
        changed.Upsert("b", "beta", Mix(0.6f, 0.8f));
        var fresh = new HybridMemoryIndex(options);
        fresh.Upsert("c", "gamma", Axis(2));
        fresh.Upsert("b", "beta", Mix(0.6f, 0.8f));

        float[] query = [0.5f, 0.5f, 0.5f, 0.5f];
        var expected = fresh.Search("delta", query, topK: 5);
        var actual = changed.Search("delta", query, topK: 5);

        Assert.Equal(Ids(expected), Ids(actual));
        Assert.Equal(expected.Select(h => h.Score), actual.Select(h => h.Score), (x, y) => Math.Abs(x - y) < 1e-6);
        Assert.NotEqual(expected[0].Score, expected[1].Score);
    }

    [Fact]
    public void Rank_fusion_score_is_one_when_both_signals_rank_first_and_half_when_only_one_does()
    {
        var index = new HybridMemoryIndex(new HybridSearchOptions { Fusion = FusionMethod.ReciprocalRank });
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
