using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Voxon.Diagnostics;
using Voxon.Memory;
using Voxon.Memory.Search;
using Voxon.Sessions;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Memory;

/// <summary>Facts a turn extracts are stored at once and embedded after the turn: the turn never waits for the
/// document encoder, saves and exports wait for it, failures are reported and embedded again.</summary>
public sealed class PendingEmbeddingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_turn_stores_its_fact_at_once_and_the_fact_is_embedded_after_the_turn()
    {
        var model = new GatedDocuments();
        await using var voxon = new TestVoxon(configure: o => o.EmbeddingGenerator = model);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        // The document encoder is held: the turn completes without it.
        await conversation.SendMessageAsync("My name is Alice").WaitAsync(Patience);

        var fact = Assert.Single(session.GetMemory().Entries);
        Assert.Contains("Alice", fact.Content, StringComparison.Ordinal);
        Assert.True(fact.Embedding.IsEmpty);
        Assert.Null(fact.EmbeddingModel);
        Assert.Contains(await session.SearchMemoryAsync("Alice"), r => r.Entry.Id == fact.Id);   // found by its words meanwhile

        model.Open();
        await session.WhenMemoryIndexedAsync().WaitAsync(Patience);

        var embedded = Assert.Single(session.GetMemory().Entries);
        Assert.Equal(fact.Id, embedded.Id);
        var expected = (await ArcticXsEmbeddingGenerator.Shared.GenerateAsync([fact.Content]))[0].Vector.ToArray();
        Assert.Equal(expected, embedded.Embedding.ToArray());
        Assert.Equal(ArcticXsEmbeddingGenerator.Int8ModelId, embedded.EmbeddingModel);
        Assert.True(Assert.Single(await session.SearchMemoryAsync("What am I called?")).SemanticScore > 0);
    }

    [Fact]
    public async Task A_save_waits_for_the_embeddings_and_stores_them()
    {
        var model = new GatedDocuments();
        await using var voxon = new TestVoxon(configure: o => o.EmbeddingGenerator = model);
        var session = await voxon.CreateSessionAsync(new SessionConfig { MemoryMode = MemoryMode.Persistent });
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My name is Alice").WaitAsync(Patience);

        var save = session.SaveAsync();
        Assert.NotSame(save, await Task.WhenAny(save, Task.Delay(300)));   // held behind the embedding
        model.Open();
        await save.WaitAsync(Patience);

        // Read from storage directly: a client's load would embed a vector-less entry itself.
        var stored = await voxon.Storage.LoadAsync(session.SessionId);
        var entry = Assert.Single(stored!.Memory.Entries);
        Assert.Equal(384, entry.Embedding.Length);
        Assert.Equal(ArcticXsEmbeddingGenerator.Int8ModelId, entry.EmbeddingModel);
    }

    [Fact]
    public async Task A_failed_embedding_is_logged_counted_and_embedded_again_by_the_next_save()
    {
        var failures = 0L;
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == VoxonTelemetry.Name && instrument.Name == "voxon.memory.embedding_failures")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref failures, value));
        meters.Start();
        var logs = new LogCollector();
        var model = new GatedDocuments { FailuresLeft = 1 };
        model.Open();
        await using var voxon = new TestVoxon(configure: o => { o.EmbeddingGenerator = model; o.LoggerFactory = logs.Factory; });
        var session = await voxon.CreateSessionAsync(new SessionConfig { MemoryMode = MemoryMode.Persistent });
        var conversation = await session.StartConversationAsync();

        await conversation.SendMessageAsync("My name is Alice");   // the turn does not fail
        await logs.WaitForAsync("Embedding 1 new memories failed");

        Assert.True(Interlocked.Read(ref failures) >= 1);
        Assert.True(Assert.Single(session.GetMemory().Entries).Embedding.IsEmpty);
        await session.SaveAsync();
        Assert.Equal(384, Assert.Single(session.GetMemory().Entries).Embedding.Length);
        var stored = await voxon.Storage.LoadAsync(session.SessionId);
        Assert.Equal(384, Assert.Single(stored!.Memory.Entries).Embedding.Length);
    }

    [Fact]
    public async Task A_memory_forgotten_before_its_embedding_arrives_stays_forgotten()
    {
        var model = new GatedDocuments();
        await using var voxon = new TestVoxon(configure: o => o.EmbeddingGenerator = model);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My name is Alice").WaitAsync(Patience);

        Assert.True(session.ForgetMemory(Assert.Single(session.GetMemory().Entries).Id));
        model.Open();
        await session.WhenMemoryIndexedAsync().WaitAsync(Patience);

        Assert.Empty(session.GetMemory().Entries);
    }

    [Fact]
    public void A_vector_is_refused_for_an_entry_that_is_gone_changed_or_already_embedded()
    {
        var now = DateTimeOffset.UnixEpoch;
        var store = new MemoryStore(10_000);
        var entry = new MemoryEntry { Id = "mem_1", Content = "User likes tea", Category = "preference", Importance = 0.5, CreatedAt = now, UpdatedAt = now, TokenCount = 3 };
        store.Add(entry, now);
        float[] vector = [1, 0, 0];

        Assert.False(store.SetEmbedding("mem_2", entry.Content, vector, "m"));                  // gone
        Assert.False(store.SetEmbedding("mem_1", "User likes coffee", vector, "m"));             // says something else now
        Assert.True(store.SetEmbedding("mem_1", entry.Content, vector, "m"));
        Assert.Equal(vector, store.Find("mem_1")!.Embedding.ToArray());
        Assert.Contains("mem_1", store.TakeChanges());                                           // stored by the next save
        Assert.False(store.SetEmbedding("mem_1", entry.Content, [0, 1, 0], "m"));                // already embedded
        Assert.Equal(vector, store.Find("mem_1")!.Embedding.ToArray());
        Assert.Equal("mem_1", Assert.Single(store.Search("anything", new float[] { 1, 0, 0 }, 5, null, 0, now)).Entry.Id);
    }

    /// <summary>The packaged model, with document embeddings (not queries) held until <see cref="Open"/> and failing
    /// <see cref="FailuresLeft"/> times.</summary>
    private sealed class GatedDocuments : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int FailuresLeft { get; set; }

        public void Open() => _open.TrySetResult();

        public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            var query = options?.AdditionalProperties?.TryGetValue(LocalEmbeddingGenerator.InputTypeKey, out var kind) == true && Equals(kind, LocalEmbeddingGenerator.QueryInputType);
            if (!query)
            {
                await _open.Task.WaitAsync(cancellationToken);
                lock (_open)
                {
                    if (FailuresLeft > 0)
                    {
                        FailuresLeft--;
                        throw new HttpRequestException("embedding service unavailable");
                    }
                }
            }

            return await ArcticXsEmbeddingGenerator.Shared.GenerateAsync(values, options, cancellationToken);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => ArcticXsEmbeddingGenerator.Shared.GetService(serviceType, serviceKey);

        public void Dispose()
        {
        }
    }
}
