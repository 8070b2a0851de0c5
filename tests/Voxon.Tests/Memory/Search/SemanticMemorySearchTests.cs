using Voxon.Memory.Search;

namespace Voxon.Tests.Memory.Search;

/// <summary>End to end: the real MiniLM model feeding <see cref="HybridMemoryIndex"/>.</summary>
public class SemanticMemorySearchTests
{
    private static readonly string[] Memories =
    [
        "User prefers formal language",
        "User's name is Maria Santos",
        "User lives in Lisbon",
        "User works as a nurse at the city hospital",
        "User enjoys hiking in the mountains",
        "User has a dentist appointment on Tuesday at 3pm",
        "User's sister is called Ana",
        "User is allergic to peanuts",
        "User plays the guitar on weekends",
        "User visited Tokyo last spring",
        "User has a golden retriever named Max",
        "User is learning to cook Italian food",
        "User's birthday is on March 14",
        "User drives a blue Toyota",
        "User supports Benfica football club",
        "User reads science fiction novels",
        "User meets their accountant on Friday morning",
    ];

    private static readonly Lazy<HybridMemoryIndex> Index = new(() =>
    {
        var index = new HybridMemoryIndex();
        var vectors = MiniLmEmbeddingGenerator.Shared.Embed(Memories);
        for (var i = 0; i < Memories.Length; i++)
        {
            index.Upsert(Memories[i], Memories[i], vectors[i]);
        }

        return index;
    });

    private static IReadOnlyList<MemorySearchHit> Search(string query, int topK = 5) =>
        Index.Value.Search(query, MiniLmEmbeddingGenerator.Shared.Embed([query])[0], topK);

    // Content words: the raw lower-case words the index does not drop as stop words ("a", "do", "is").
    private static HashSet<string> Words(string text) =>
        text.ToLowerInvariant().Split([' ', '\'', ',', '.', '?'], StringSplitOptions.RemoveEmptyEntries)
            .Where(w => SearchTokenizer.Tokenize(w).Count > 0)
            .ToHashSet();

    [Fact]
    public void Language_preference_ranks_the_formal_language_memory_first()
    {
        Assert.Equal("User prefers formal language", Search("language preference")[0].Id);
    }

    [Theory]
    [InlineData("what do I do for a living", "User works as a nurse at the city hospital")]
    [InlineData("where is my home", "User lives in Lisbon")]
    [InlineData("what pet do I own", "User has a golden retriever named Max")]
    [InlineData("which musical instrument", "User plays the guitar on weekends")]
    [InlineData("when do I next see the doctor", "User has a dentist appointment on Tuesday at 3pm")]
    public void Paraphrase_query_finds_memory_without_shared_words(string query, string target)
    {
        // The point of the test: neither raw words nor index terms connect query and target.
        Assert.Empty(Words(query).Intersect(Words(target)));
        Assert.Empty(SearchTokenizer.Tokenize(query).Intersect(SearchTokenizer.Tokenize(target)));

        var top2 = Search(query, topK: 2).Select(h => h.Id);

        Assert.Contains(target, top2);
    }

    [Fact]
    public void Unrelated_query_returns_few_or_no_memories()
    {
        // Nothing in the memories is about quantum physics; the semantic floor should keep most of them out.
        Assert.True(Search("quantum chromodynamics lattice", topK: 17).Count <= 3);
    }
}
