using System.Globalization;
using Voxon.Context;
using Voxon.Memory;
using Voxon.Memory.Search;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Benchmarks;

/// <summary>
/// The "weaver" harness: ContextWeaver's per-turn cost with 10,000 memories in the session, alone and as part of a
/// whole turn with the offline engine. Run: <c>dotnet run -c Release --project bench/Voxon.Benchmarks -- harness weaver</c>.
/// </summary>
public static class WeaverBenchmarks
{
    private const int Memories = 10_000;

    public static void RegisterHarnesses() => Harness.Register("weaver", RunAsync);

    private static async Task RunAsync()
    {
        // 1,000 real embeddings reused cyclically for 10,000 distinct texts keep set-up under a minute;
        // lexical statistics are real for all texts.
        var random = new Random(7);
        var texts = Enumerable.Range(0, Memories).Select(i => SearchBenchmarks.Sentence(random, i)).ToArray();
        var vectors = MiniLmEmbeddingGenerator.Shared.Embed(texts[..1_000]);
        var now = DateTimeOffset.UtcNow;
        var entries = texts.Select((text, i) => new MemoryEntry
        {
            Id = $"mem_{i:x16}",
            Content = text,
            Category = i % 50 == 0 ? "identity" : "note",
            Importance = 0.5,
            CreatedAt = now.AddMinutes(-i),
            UpdatedAt = now.AddMinutes(-i),
            TokenCount = TokenCounter.Count(text),
            Embedding = vectors[i % vectors.Length],
        }).ToList();

        var store = new MemoryStore(int.MaxValue);
        store.LoadStored(entries);
        var weaver = new ContextWeaver(new ContextWeaverOptions());
        var queryVectors = MiniLmEmbeddingGenerator.Shared.Embed([.. Enumerable.Range(0, 12).Select(SearchBenchmarks.Query)]);
        WovenContext last = WovenContext.Empty;
        Harness.Measure("[10,000 memories] ContextWeaver.Weave (query embedded beforehand)", 500, i =>
            last = weaver.Weave(new WeaveRequest(store, SearchBenchmarks.Query(i), queryVectors[((i % 12) + 12) % 12], _ => ScopeRelation.Own, 1_500, now)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  last context: {last.Injected.Count} memories, {last.TokenCount} tokens"));

        var folder = Path.Combine(Path.GetTempPath(), "voxon-bench-weaver-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var storage = new FileSessionStorage(folder);
            var document = new SessionDocument
            {
                SessionId = "sess_weaver",
                UserId = "bench",
                CreatedAt = now,
                UpdatedAt = now,
                Config = new SessionConfig { SessionId = "sess_weaver", UserId = "bench", MaxMemorySize = int.MaxValue / 2, MemoryMode = MemoryMode.Persistent },
                Memory = new MemoryDocument { Entries = entries, MaxTokens = int.MaxValue / 2 },
            };
            await storage.SaveAsync(document);
            await using var voxon = new VoxonClient(new VoxonOptions { Storage = storage, UseEnvironment = false });
            var session = await voxon.LoadSessionAsync("sess_weaver");
            var conversation = await session.StartConversationAsync();
            await Harness.MeasureAsync("[10,000 memories] whole turn, offline engine (incl. embedding)", 200, i =>
                conversation.SendMessageAsync(SearchBenchmarks.Query(i) + "?"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
