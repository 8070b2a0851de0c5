using Voxon.Events;
using Voxon.Memory;

namespace Voxon.Tests.Memory;

public sealed class CompressionTests
{
    [Fact]
    public async Task CompressMemory_merges_old_entries_per_category_keeps_recent_ones_and_lowers_the_token_count()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var compressed = 0;
        session.Events.On(SessionEventNames.MemoryCompressed, _ => compressed++);
        session.AddMemory("User is interested in quantum physics", "interest", 0.7);
        session.AddMemory("User is interested in jazz piano", "interest", 0.6);
        session.AddMemory("User is interested in Portuguese cooking", "interest", 0.5);
        session.AddMemory("User's name is Alice", "identity", 0.9);
        host.Time.Advance(TimeSpan.FromDays(30));
        session.AddMemory("User is interested in chess openings", "interest", 0.6);
        var before = session.GetMemory().TokenCount;

        var result = session.CompressMemory(keepRecentDays: 7);

        var memory = session.GetMemory();
        Assert.Equal(3, result.ReplacedIds.Count);
        var summary = Assert.Single(memory.Entries, e => e.Source == MemorySource.Summary);
        Assert.Equal("interest", summary.Category);
        Assert.Contains("quantum physics", summary.Content, StringComparison.Ordinal);
        Assert.Contains("jazz piano", summary.Content, StringComparison.Ordinal);
        Assert.Contains(memory.Entries, e => e.Content == "User is interested in chess openings");
        Assert.Contains(memory.Entries, e => e.Content == "User's name is Alice");
        Assert.True(memory.TokenCount < before, $"tokens {memory.TokenCount} not below {before}");
        Assert.Equal(memory.TokenCount, result.TokensAfter);
        Assert.Equal(1, compressed);
    }

    [Fact]
    public async Task Compressed_facts_stay_findable_by_search()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        session.AddMemory("User is interested in quantum physics", "interest", 0.7);
        session.AddMemory("User is interested in jazz piano", "interest", 0.6);
        session.AddMemory("User likes hiking in the mountains", "interest", 0.6);
        host.Time.Advance(TimeSpan.FromDays(30));
        session.CompressMemory(keepRecentDays: 7);

        var hit = session.SearchMemory("jazz", topK: 1)[0];

        Assert.Equal(MemorySource.Summary, hit.Entry.Source);
        Assert.Contains("jazz piano", hit.Entry.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compression_never_lets_a_memory_outlive_its_expiry()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        session.AddMemory("User is interested in quantum physics", "interest", 0.7);
        session.AddMemory("User is interested in a gate code 4471", "interest", 0.6, expiresAfter: TimeSpan.FromDays(40));
        session.AddMemory("User is interested in jazz piano", "interest", 0.6, expiresAfter: TimeSpan.FromDays(60));
        session.AddMemory("User is interested in chess openings", "interest", 0.6, expiresAfter: TimeSpan.FromDays(60));
        host.Time.Advance(TimeSpan.FromDays(30));
        session.CompressMemory(keepRecentDays: 7);

        host.Time.Advance(TimeSpan.FromDays(11)); // past the gate code's expiry, before the others'

        var contents = session.GetMemory().Entries.Select(e => e.Content).ToList();
        Assert.DoesNotContain(contents, c => c.Contains("gate code", StringComparison.Ordinal));
        Assert.Contains(contents, c => c.Contains("quantum physics", StringComparison.Ordinal));
        Assert.Contains(contents, c => c.Contains("jazz piano", StringComparison.Ordinal) && c.Contains("chess openings", StringComparison.Ordinal));
        host.Time.Advance(TimeSpan.FromDays(20));
        Assert.DoesNotContain(session.GetMemory().Entries, e => e.Content.Contains("jazz piano", StringComparison.Ordinal));
    }

    [Fact]
    public void Offline_merge_factors_out_the_shared_beginning()
    {
        var merged = MemoryCompressor.Merge(["User is interested in jazz", "User is interested in chess", "User likes tea"]);
        Assert.Equal("User is interested in jazz and chess; User likes tea.", merged);
    }

    [Theory]
    [InlineData("{\"summary\": \"User enjoys jazz and chess.\"}", "User enjoys jazz and chess.")]
    [InlineData("Sure! Here is a summary: jazz, chess", "User is interested in jazz and chess.")]
    [InlineData("{\"summary\": 42}", "User is interested in jazz and chess.")]
    public async Task A_configured_model_writes_the_summary_and_bad_model_output_falls_back_to_the_offline_merge(string modelAnswer, string expected)
    {
        await using var host = new MemoryTestHost(new FixedChatClient(modelAnswer));
        var session = await host.NewSessionAsync();
        session.AddMemory("User is interested in jazz", "interest", 0.6);
        session.AddMemory("User is interested in chess", "interest", 0.6);
        host.Time.Advance(TimeSpan.FromDays(30));

        session.CompressMemory(keepRecentDays: 7);

        Assert.Equal(expected, Assert.Single(session.GetMemory().Entries).Content);
    }

    [Fact]
    public async Task CompressMemory_rejects_negative_days()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        Assert.Throws<ArgumentOutOfRangeException>(() => session.CompressMemory(-1));
    }

    [Fact]
    public void Loading_stored_entries_into_a_store_that_holds_any_is_refused()
    {
        // The unrecorded path exists only for a load into an empty store; anything added to a live session is recorded.
        var store = new MemoryStore(1000);
        var entry = new MemoryEntry { Id = "mem_1", Content = "User likes tea", Category = "general", TokenCount = 4 };
        store.Put(entry);
        Assert.Equal(["mem_1"], store.TakeChanges());
        Assert.Throws<InvalidOperationException>(() => store.LoadStored([entry with { Id = "mem_2" }]));

        var loaded = new MemoryStore(1000);
        loaded.LoadStored([entry]);
        Assert.Empty(loaded.TakeChanges());
        Assert.Equal(1, loaded.StoredCountAfter([], []));
    }
}
