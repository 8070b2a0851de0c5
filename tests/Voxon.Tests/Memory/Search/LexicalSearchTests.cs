using Voxon.Memory.Search;

namespace Voxon.Tests.Memory.Search;

/// <summary>BM25 behaviour of <see cref="HybridMemoryIndex"/> with no embeddings involved.</summary>
public class LexicalSearchTests
{
    private static IReadOnlyList<MemorySearchHit> Search(HybridMemoryIndex index, string query, int topK = 10, Func<string, bool>? filter = null, double minScore = 0) =>
        index.Search(query, ReadOnlyMemory<float>.Empty, topK, filter, minScore);

    private static HybridMemoryIndex IndexOf(params (string Id, string Text)[] memories)
    {
        var index = new HybridMemoryIndex();
        foreach (var (id, text) in memories)
        {
            index.Upsert(id, text, ReadOnlyMemory<float>.Empty);
        }

        return index;
    }

    // Memory mNN mentions "coffee" NN times (1..20): more mentions, better rank.
    private static HybridMemoryIndex CoffeeIndex() =>
        IndexOf(Enumerable.Range(1, 20).Select(i => ($"m{i:D2}", string.Join(' ', Enumerable.Repeat("coffee", i)) + " cup")).ToArray());

    private static string[] Ids(IReadOnlyList<MemorySearchHit> hits) => hits.Select(h => h.Id).ToArray();

    [Fact]
    public void Memory_is_searchable_as_soon_as_upsert_returns()
    {
        var index = new HybridMemoryIndex();
        index.Upsert("m1", "User's dog is called Rex", ReadOnlyMemory<float>.Empty);

        Assert.Equal(["m1"], Ids(Search(index, "dog")));
        Assert.Equal(1, index.Count);
    }

    [Fact]
    public void Higher_term_frequency_ranks_higher_at_equal_length()
    {
        var index = IndexOf(("once", "tea coffee juice water"), ("twice", "tea tea juice water"));

        var hits = Search(index, "tea");

        Assert.Equal(["twice", "once"], Ids(hits));
        Assert.True(hits[0].LexicalScore > hits[1].LexicalScore);
    }

    [Fact]
    public void Rare_term_outweighs_common_term()
    {
        var index = IndexOf(
            ("common", "user likes music"),
            ("rare", "user likes jazz"),
            ("filler1", "user likes music a lot"),
            ("filler2", "user likes music loudly"));

        // "jazz" occurs once in the corpus, "music" three times: the jazz memory wins on IDF.
        var hits = Search(index, "jazz music");

        Assert.Equal("rare", hits[0].Id);
    }

    [Fact]
    public void Shorter_document_ranks_higher_for_the_same_match()
    {
        var index = IndexOf(
            ("long", "user enjoys painting landscapes with oils on weekends in the studio downtown"),
            ("short", "user enjoys painting"));

        Assert.Equal(["short", "long"], Ids(Search(index, "painting")));
    }

    [Fact]
    public void Stemming_matches_inflected_forms()
    {
        var index = IndexOf(("pref", "User prefers formal language"), ("other", "User lives in Lisbon"));

        Assert.Equal(["pref"], Ids(Search(index, "language preferences")));
        Assert.Equal(["other"], Ids(Search(index, "living")));
    }

    [Fact]
    public void Query_of_only_stop_words_finds_nothing()
    {
        var index = IndexOf(("m1", "this is what it was"), ("m2", "User is a nurse"));

        Assert.Empty(Search(index, "what is this"));
    }

    [Fact]
    public void Empty_query_and_empty_index_return_no_hits()
    {
        Assert.Empty(Search(IndexOf(("m1", "User is a nurse")), ""));
        Assert.Empty(Search(new HybridMemoryIndex(), "nurse"));
    }

    [Fact]
    public void Upsert_replaces_old_terms_of_the_same_id()
    {
        var index = IndexOf(("name", "User's name is Alice"));

        index.Upsert("name", "User's name is Bob", ReadOnlyMemory<float>.Empty);

        Assert.Empty(Search(index, "alice"));
        Assert.Equal(["name"], Ids(Search(index, "bob")));
        Assert.Equal(1, index.Count);
    }

    [Fact]
    public void Remove_makes_memory_unfindable_and_keeps_others_findable()
    {
        var index = IndexOf(("a", "User plays guitar"), ("b", "User plays piano"), ("c", "User plays drums"));

        Assert.True(index.Remove("a"));
        Assert.False(index.Remove("a"));

        Assert.Empty(Search(index, "guitar"));
        // "c" was moved into the removed slot; its postings must follow it.
        Assert.Equal(["c"], Ids(Search(index, "drums")));
        Assert.Equal(["b"], Ids(Search(index, "piano")));
        Assert.Equal(2, index.Count);
    }

    [Fact]
    public void Clear_empties_the_index()
    {
        var index = IndexOf(("a", "User plays guitar"));

        index.Clear();

        Assert.Equal(0, index.Count);
        Assert.Empty(Search(index, "guitar"));
    }

    [Fact]
    public void Filter_excludes_memories_before_ranking()
    {
        var index = IndexOf(("work:1", "meeting with the team"), ("home:1", "meeting with the plumber"), ("home:2", "plumber invoice"));

        var hits = Search(index, "meeting plumber", filter: id => id.StartsWith("work:"));

        Assert.Equal(["work:1"], Ids(hits));
        // Ranked first among the admitted memories, so it gets the best possible score.
        Assert.Equal(1.0, hits[0].Score, 9);
    }

    [Fact]
    public void Filter_is_called_at_most_once_per_memory()
    {
        var index = IndexOf(("a", "red green blue"), ("b", "red green"), ("c", "yellow"));
        var calls = new List<string>();

        Search(index, "red green blue", filter: id => { calls.Add(id); return true; });

        Assert.Equal(["a", "b"], calls.Order());
    }

    [Fact]
    public void A_tagged_search_hands_the_filter_the_tag_of_each_memorys_latest_upsert()
    {
        var index = new HybridMemoryIndex();
        index.Upsert("a", "red apple", ReadOnlyMemory<float>.Empty, tag: "first");
        index.Upsert("b", "red berry", ReadOnlyMemory<float>.Empty, tag: "keep out");
        index.Upsert("c", "green apple", ReadOnlyMemory<float>.Empty, tag: "never asked");
        index.Upsert("a", "red apple", ReadOnlyMemory<float>.Empty, tag: "second");
        var asked = new List<string>();

        var hits = index.SearchTagged("red", ReadOnlyMemory<float>.Empty, 10, tag => { asked.Add((string)tag!); return (string)tag! != "keep out"; });

        Assert.Equal(["a"], Ids(hits));
        Assert.Equal(["keep out", "second"], asked.Order(StringComparer.Ordinal));
        Assert.Throws<ArgumentNullException>(() => index.SearchTagged("red", ReadOnlyMemory<float>.Empty, 10, null!));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_common_word_asks_the_filter_only_about_matches_the_window_would_take(bool tied)
    {
        // A thousand memories share "project"; tied, they are of one length and score alike (ids decide), else their
        // lengths, hence scores, differ. The window is ten; the filter turns away the odd ones.
        var random = new Random(3);
        var memories = Enumerable.Range(0, 1_000)
            .Select(i => ($"m{random.Next(1_000_000):D6}{i:D4}", "project " + string.Join(' ', Enumerable.Repeat("note", tied ? 3 : 1 + random.Next(30)))))
            .ToArray();
        static bool Even(string id) => id[^1] % 2 == 0;
        var windowed = new HybridMemoryIndex(new HybridSearchOptions { CandidateWindow = 10 });
        var whole = new HybridMemoryIndex(new HybridSearchOptions { CandidateWindow = 2_000 });
        foreach (var (id, text) in memories)
        {
            windowed.Upsert(id, text, ReadOnlyMemory<float>.Empty);
            whole.Upsert(id, text, ReadOnlyMemory<float>.Empty);
        }

        var asked = 0;
        var hits = Search(windowed, "project", topK: 5, filter: id => ++asked > 0 && Even(id));

        // The best five even memories, as if every match had been asked about.
        var expected = Search(whole, "project", topK: 1_000).Where(h => Even(h.Id)).Take(5);
        Assert.Equal(Ids([.. expected]), Ids(hits));
        Assert.Equal(expected.Select(h => h.LexicalScore), hits.Select(h => h.LexicalScore));
        // Not the thousand matches: about a window at or above the edge, and when ids break ties, those that would beat
        // the window's worst in a random order (some 10 × (1 + ln(500 / 10)) ≈ 50 of the even ones, as many odd).
        Assert.InRange(asked, 10, tied ? 150 : 60);
    }

    [Fact]
    public void Top_k_limits_hit_count_and_keeps_the_best()
    {
        var index = CoffeeIndex();

        var hits = Search(index, "coffee", topK: 3);

        Assert.Equal(["m20", "m19", "m18"], Ids(hits));
        Assert.Empty(Search(index, "coffee", topK: 0));
    }

    [Fact]
    public void Min_score_cuts_lower_ranks()
    {
        var index = CoffeeIndex();

        var all = Search(index, "coffee", topK: 20);
        var cut = Search(index, "coffee", topK: 20, minScore: all[4].Score);

        Assert.Equal(1.0, all[0].Score, 9);
        Assert.All(all, h => Assert.InRange(h.Score, 0, 1));
        Assert.Equal(Ids(all).Take(5), Ids(cut));
    }

    [Fact]
    public void Equal_scores_are_ordered_by_id_regardless_of_insertion_order()
    {
        var index = IndexOf(("b", "same text"), ("c", "same text"), ("a", "same text"));

        Assert.Equal(["a", "b", "c"], Ids(Search(index, "text")));
    }

    [Fact]
    public void Equal_scores_follow_ordinal_id_order_for_ids_alike_in_their_first_eight_characters_or_shorter()
    {
        // Ids that share eight-character prefixes, are prefixes of one another, or hold units above 0x7FFF and NUL.
        string[] ids = ["mem_aaaa1", "mem_aaaa0", "mem_aaaa", "mem_aaa", "mem_aab", "m", "mem_\uFFFFa", "mem_\u00E9", "mem_aaaa\0", "mem_aaa\0b", "MEM_aaaa", "mem_aaaa10"];
        var random = new Random(5);
        var index = IndexOf([.. ids.OrderBy(_ => random.Next()).Select(id => (id, "same text"))]);

        Assert.Equal(ids.Order(StringComparer.Ordinal), Ids(Search(index, "text", topK: ids.Length)));
        // Through a window smaller than the matches, the heap keeps the first ids.
        var windowed = new HybridMemoryIndex(new HybridSearchOptions { CandidateWindow = 3 });
        foreach (var id in ids)
        {
            windowed.Upsert(id, "same text", ReadOnlyMemory<float>.Empty);
        }

        Assert.Equal(ids.Order(StringComparer.Ordinal).Take(3), Ids(Search(windowed, "text", topK: 3)));
    }

    [Fact]
    public void Bad_arguments_throw()
    {
        var index = IndexOf(("a", "text"));

        Assert.Throws<ArgumentOutOfRangeException>(() => Search(index, "text", topK: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Search(index, "text", minScore: double.NaN));
        Assert.Throws<ArgumentException>(() => new HybridMemoryIndex(new HybridSearchOptions { K1 = -1, RrfK = 0 }));
    }
}
