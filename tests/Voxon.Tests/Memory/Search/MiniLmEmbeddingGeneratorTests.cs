using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using Voxon.Memory.Search;

namespace Voxon.Tests.Memory.Search;

/// <summary>The real all-MiniLM-L6-v2 model, through the shared generator.</summary>
public class MiniLmEmbeddingGeneratorTests
{
    private static readonly MiniLmEmbeddingGenerator Generator = MiniLmEmbeddingGenerator.Shared;

    private static async Task<float[]> EmbedAsync(string text) =>
        (await Generator.GenerateVectorAsync(text)).ToArray();

    [Fact]
    public async Task Embeddings_have_384_unit_length_components()
    {
        var embeddings = await Generator.GenerateAsync(["User lives in Lisbon", "", "ok"]);

        Assert.Equal(3, embeddings.Count);
        Assert.All(embeddings, e =>
        {
            Assert.Equal(384, e.Vector.Length);
            Assert.Equal(1.0, TensorPrimitives.Norm(e.Vector.Span), 4);
            Assert.Equal("all-MiniLM-L6-v2", e.ModelId);
        });
    }

    [Fact]
    public async Task Embeddings_are_deterministic_and_independent_of_batching()
    {
        var alone = await EmbedAsync("User prefers formal language");
        var again = await EmbedAsync("User prefers formal language");
        var batched = await Generator.GenerateAsync(["A much longer sentence that pads the batch to more tokens", "User prefers formal language"]);

        Assert.Equal(alone, again);
        Assert.Equal(alone, batched[1].Vector.ToArray(), (x, y) => Math.Abs(x - y) < 1e-5f);
    }

    [Fact]
    public async Task Similar_sentences_score_higher_than_unrelated_ones()
    {
        var cat = await EmbedAsync("The cat sleeps on the sofa");
        var kitten = await EmbedAsync("A kitten is napping on the couch");
        var tax = await EmbedAsync("Quarterly tax filing deadline");

        Assert.True(TensorPrimitives.Dot(cat, kitten) > TensorPrimitives.Dot(cat, tax) + 0.3f);
    }

    [Fact]
    public async Task Concurrent_calls_give_the_same_vectors()
    {
        var expected = await EmbedAsync("User has a golden retriever named Max");

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => EmbedAsync("User has a golden retriever named Max"))));

        Assert.All(results, r => Assert.Equal(expected, r));
    }

    [Fact]
    public void Metadata_names_provider_model_and_dimensions()
    {
        var metadata = Generator.GetService<EmbeddingGeneratorMetadata>();

        Assert.NotNull(metadata);
        Assert.Equal("voxon-minilm", metadata.ProviderName);
        Assert.Equal("all-MiniLM-L6-v2", metadata.DefaultModelId);
        Assert.Equal(384, metadata.DefaultModelDimensions);
        Assert.Same(Generator, Generator.GetService<MiniLmEmbeddingGenerator>());
        Assert.Null(Generator.GetService<EmbeddingGeneratorMetadata>(serviceKey: "other"));
    }

    [Fact]
    public async Task Cancelled_token_throws_operation_canceled()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Generator.GenerateAsync(["text"], cancellationToken: cts.Token));
    }

    [Fact]
    public async Task Other_dimension_counts_are_not_supported()
    {
        await Assert.ThrowsAsync<NotSupportedException>(() => Generator.GenerateAsync(["text"], new EmbeddingGenerationOptions { Dimensions = 128 }));
    }

    [Fact]
    public async Task Disposing_the_shared_instance_leaves_it_usable_but_an_owned_instance_is_released()
    {
        Generator.Dispose();
        Assert.Equal(384, (await EmbedAsync("still works")).Length);

        var owned = new MiniLmEmbeddingGenerator();
        owned.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => owned.GenerateAsync(["text"]));
    }
}
