using Voxon.Memory.Search;

namespace Voxon.Tests.Memory.Search;

/// <summary>The cache of recent embeddings that lets words said again skip the model.</summary>
public class EmbeddingCacheTests
{
    [Fact]
    public void Full_cache_drops_the_least_recently_used_vector()
    {
        var cache = new EmbeddingCache(capacity: 2);
        cache.Add("a", query: true, [1f]);
        cache.Add("b", query: true, [2f]);
        Assert.NotNull(cache.Get("a", query: true)); // "a" is now the most recently used

        cache.Add("c", query: true, [3f]);

        Assert.Equal(2, cache.Count);
        Assert.Null(cache.Get("b", query: true));
        Assert.Equal([1f], cache.Get("a", query: true)!);
        Assert.Equal([3f], cache.Get("c", query: true)!);
    }

    [Fact]
    public void Queries_and_documents_of_the_same_text_are_kept_apart()
    {
        var cache = new EmbeddingCache(capacity: 4);
        cache.Add("where is my sister", query: true, [1f, 0f]);

        Assert.Null(cache.Get("where is my sister", query: false));

        cache.Add("where is my sister", query: false, [0f, 1f]);
        Assert.Equal([1f, 0f], cache.Get("where is my sister", query: true)!);
        Assert.Equal([0f, 1f], cache.Get("where is my sister", query: false)!);
    }

    [Fact]
    public void Vectors_are_copied_in_and_out()
    {
        var cache = new EmbeddingCache(capacity: 4);
        var stored = new[] { 0.6f, 0.8f };
        cache.Add("ok", query: true, stored);
        stored[0] = 99f;
        var first = cache.Get("ok", query: true)!;
        first[1] = 99f;

        Assert.Equal([0.6f, 0.8f], cache.Get("ok", query: true)!);
    }

    [Fact]
    public void Adding_a_text_again_replaces_its_vector_without_growing()
    {
        var cache = new EmbeddingCache(capacity: 4);
        cache.Add("ok", query: true, [1f]);
        cache.Add("ok", query: true, [2f]);

        Assert.Equal(1, cache.Count);
        Assert.Equal([2f], cache.Get("ok", query: true)!);
    }

    [Fact]
    public void Zero_capacity_keeps_nothing_and_negative_is_rejected()
    {
        var cache = new EmbeddingCache(capacity: 0);
        cache.Add("ok", query: true, [1f]);

        Assert.Null(cache.Get("ok", query: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmbeddingCache(-1));
    }
}
