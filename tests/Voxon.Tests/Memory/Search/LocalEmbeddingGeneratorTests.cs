using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using Voxon.Memory.Search;
using Voxon.Tests.TestSupport;
using Voxon.Turns;

namespace Voxon.Tests.Memory.Search;

/// <summary>The real local models (all-MiniLM-L6-v2, snowflake-arctic-embed-xs) and how sessions use them.</summary>
public class LocalEmbeddingGeneratorTests
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

    [Fact]
    public async Task Arctic_queries_get_the_instruction_and_documents_do_not()
    {
        var arctic = ArcticXsEmbeddingGenerator.SharedFor(EncoderPrecision.Float32, EncoderPrecision.Float32);
        const string Text = "When did Maya start the new job?";

        var query = (await arctic.GenerateAsync([Text], LocalEmbeddingGenerator.QueryOptions))[0].Vector.ToArray();
        var document = (await arctic.GenerateAsync([Text]))[0].Vector.ToArray();

        // The package's encoder adds nothing itself: the query equals the document embedding of prefix + text.
        Assert.Equal(arctic.Embed([ArcticXsEmbeddingGenerator.QueryPrefix + Text])[0], query, (x, y) => Math.Abs(x - y) < 1e-5f);
        Assert.Equal(arctic.Embed([Text])[0], document, (x, y) => Math.Abs(x - y) < 1e-5f);
        Assert.True(TensorPrimitives.CosineSimilarity(query, document) < 0.99f);

        // MiniLM takes no instruction: a query is embedded as written.
        Assert.Equal(
            (await Generator.GenerateAsync([Text]))[0].Vector.ToArray(),
            (await Generator.GenerateAsync([Text], LocalEmbeddingGenerator.QueryOptions))[0].Vector.ToArray());
    }

    [Fact]
    public async Task Sessions_embed_memories_as_documents_and_searches_as_queries()
    {
        var recording = new RecordingEmbeddings("model-a");
        await using var voxon = new TestVoxon(configure: o => o.EmbeddingGenerator = recording);
        var session = await voxon.CreateSessionAsync();

        var entry = await session.AddMemoryAsync("User's sister lives in Oslo", context: "Where does your family live?");
        await session.SearchMemoryAsync("where is my sister");

        Assert.Equal([("User's sister lives in Oslo", false), ("where is my sister", true)], recording.Calls);
        Assert.Equal("model-a", entry.EmbeddingModel);
    }

    [Fact]
    public async Task Words_said_again_are_embedded_once_and_get_the_same_vector()
    {
        var recording = new RecordingEmbeddings("model-a");
        await using var voxon = new TestVoxon(configure: o => o.EmbeddingGenerator = recording);
        var session = await voxon.CreateSessionAsync();
        await session.AddMemoryAsync("User's sister lives in Oslo");
        var conversation = await session.StartConversationAsync();

        await conversation.SendMessageAsync("Where does my sister live?");
        var first = conversation.LastContext!;
        await conversation.SendMessageAsync("Where does my sister live?");
        var found = await session.SearchMemoryAsync("Where does my sister live?");

        // One query embedding for three uses of the same words; the memory's own text was embedded as a document.
        Assert.Equal([("User's sister lives in Oslo", false), ("Where does my sister live?", true)], recording.Calls);
        Assert.Equal(first.Injected, conversation.LastContext!.Injected);
        Assert.Equal("User's sister lives in Oslo", Assert.Single(found).Entry.Content);
    }

    [Fact]
    public async Task Sessions_do_not_share_the_embeddings_of_their_words()
    {
        var recording = new RecordingEmbeddings("model-a");
        await using var voxon = new TestVoxon(configure: o => o.EmbeddingGenerator = recording);

        await (await voxon.CreateSessionAsync(userId: "alice")).SearchMemoryAsync("what is my password hint");
        await (await voxon.CreateSessionAsync(userId: "bob")).SearchMemoryAsync("what is my password hint");

        Assert.Equal([("what is my password hint", true), ("what is my password hint", true)], recording.Calls);
    }

    [Fact]
    public async Task A_cached_query_vector_is_exactly_the_models_vector()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();
        const string Words = "What did I tell you about my garden?";

        var computed = (await session.Turns.PrepareAsync(conversation.State, Words, null, CancellationToken.None)).Embedding;
        computed[0] = float.NaN; // the caller's copy; the cache keeps its own
        var cached = (await session.Turns.PrepareAsync(conversation.State, Words, null, CancellationToken.None)).Embedding;

        var model = (await ArcticXsEmbeddingGenerator.Shared.GenerateAsync([Words], LocalEmbeddingGenerator.QueryOptions))[0].Vector.ToArray();
        Assert.Equal(1, ((ITurnHost)session).Embeddings.Count);
        Assert.Equal(model, cached);
    }

    [Fact]
    public async Task Loading_under_another_model_re_embeds_and_the_next_save_keeps_it()
    {
        await using var voxon = new TestVoxon(configure: o => o.EmbeddingGenerator = new RecordingEmbeddings("model-a"));
        var session = await voxon.CreateSessionAsync();
        await session.AddMemoryAsync("User plays the cello");
        await session.SaveAsync();

        var sameModel = new RecordingEmbeddings("model-a");
        var optionsA = voxon.Options(voxon.Storage);
        optionsA.EmbeddingGenerator = sameModel;
        await using (var client = new VoxonClient(optionsA))
        {
            await client.LoadSessionAsync(session.SessionId);
        }

        Assert.Empty(sameModel.Calls);

        var modelB = new RecordingEmbeddings("model-b");
        var optionsB = voxon.Options(voxon.Storage);
        optionsB.EmbeddingGenerator = modelB;
        await using (var client = new VoxonClient(optionsB))
        {
            var loaded = await client.LoadSessionAsync(session.SessionId);
            var entry = Assert.Single(loaded.GetMemory().Entries);
            Assert.Equal("model-b", entry.EmbeddingModel);
            Assert.Equal(RecordingEmbeddings.Vector("model-b", "User plays the cello"), entry.Embedding.ToArray());
            Assert.Equal([("User plays the cello", false)], modelB.Calls);
            await loaded.SaveAsync();
        }

        var stored = await voxon.Storage.LoadAsync(session.SessionId);
        Assert.Equal("model-b", Assert.Single(stored!.Memory.Entries).EmbeddingModel);
    }

    /// <summary>Embeddings that differ by model id, recording each text and whether it was embedded as a query.</summary>
    private sealed class RecordingEmbeddings(string modelId) : IEmbeddingGenerator<string, Embedding<float>>
    {
        public List<(string Text, bool Query)> Calls { get; } = [];

        public static float[] Vector(string model, string text)
        {
            var hash = (uint)StringComparer.Ordinal.GetHashCode(model + "|" + text);
            var vector = new float[8];
            vector[hash % 8] = 1;
            vector[(hash / 8) % 8] += 0.5f;
            return vector;
        }

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            var query = options?.AdditionalProperties?.TryGetValue(LocalEmbeddingGenerator.InputTypeKey, out var kind) == true && Equals(kind, LocalEmbeddingGenerator.QueryInputType);
            var result = new GeneratedEmbeddings<Embedding<float>>();
            foreach (var value in values)
            {
                Calls.Add((value, query));
                result.Add(new Embedding<float>(Vector(modelId, value)) { ModelId = modelId });
            }

            return Task.FromResult(result);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceType == typeof(EmbeddingGeneratorMetadata) ? new EmbeddingGeneratorMetadata("test", null, modelId, 8) : null;

        public void Dispose()
        {
        }
    }
}
