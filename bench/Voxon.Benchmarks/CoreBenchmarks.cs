using System.Globalization;
using Voxon.Conversations;
using Voxon.Memory;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Benchmarks;

/// <summary>
/// Harness "core" (issue 2): the session layer's time per turn with the offline engine (embed the message,
/// weave context, call the engine, record the turn, extract memory) with few and with 1,000 memories, with words said
/// before and with new words; and
/// SaveAsync / LoadSessionAsync of a session with 100 conversations of 10 turns and 1,000 memories, file storage.
/// </summary>
public static class CoreBenchmarks
{
    private const int Dimensions = 384;

    private static readonly string[] Turns = ["What's my name and interest?", "I love hiking", "Tell me something new", "What do I like?"];

    public static void RegisterHarnesses() => Harness.Register("core", RunAsync);

    private static async Task RunAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "voxon-bench-core-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var storage = new FileSessionStorage(folder);
            await using var voxon = new VoxonClient(new VoxonOptions { Storage = storage, UseEnvironment = false });
            // Unprinted pass so JIT tiering and the embedding model's first calls do not land in the first measurement.
            await MeasureTurnsAsync(voxon, extraMemories: 1_000, label: null);
            await MeasureTurnsAsync(voxon, extraMemories: 0, "turn (offline engine), 2 memories");
            await MeasureTurnsAsync(voxon, extraMemories: 1_000, "turn (offline engine), 1,000 memories");
            // Turns spaced as in a call: the facts a turn extracted are embedded in the background while its reply plays,
            // so the next turn starts after that (the wait is not timed). The back-to-back rows show what the background
            // embedding costs a turn that starts while it runs (two cores).
            await MeasureTurnsAsync(voxon, extraMemories: 1_000, "turn (offline engine), 1,000 memories, new words", NewWords, spaced: true);
            await MeasureTurnsAsync(voxon, extraMemories: 1_000, "  back to back", NewWords);
            // The same split by kind: a new question embeds the words (the query encoder); a new statement also embeds the
            // fact it states (the document encoder), after the turn.
            await MeasureTurnsAsync(voxon, extraMemories: 1_000, "  of which new questions only", i => NewWords(4 * i), spaced: true);
            await MeasureTurnsAsync(voxon, extraMemories: 1_000, "  of which new statements (a fact each) only", i => NewWords((4 * i) + 1), spaced: true);
            await MeasureTurnsAsync(voxon, extraMemories: 1_000, "    back to back", i => NewWords((4 * i) + 1));
            await MeasureSaveLoadAsync(voxon, storage);
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>Words no earlier turn said, so every query (and, one turn in four, a new fact) is embedded by the model;
    /// the cycled <see cref="Turns"/> show turns whose words were said before (their embeddings are cached).</summary>
    private static string NewWords(int i) => (i % 4) switch
    {
        0 => string.Create(CultureInfo.InvariantCulture, $"What do you remember about topic {i + 5_000}?"),
        1 => string.Create(CultureInfo.InvariantCulture, $"I love hiking trail number {i + 5_000}"),
        2 => string.Create(CultureInfo.InvariantCulture, $"Tell me something new about project {i + 5_000}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"What do I like about day {i + 5_000}?"),
    };

    private static async Task MeasureTurnsAsync(VoxonClient voxon, int extraMemories, string? label, Func<int, string>? words = null, bool spaced = false)
    {
        var session = await voxon.CreateSessionAsync("bench", new SessionConfig { MemoryMode = MemoryMode.Persistent, MaxMemorySize = 1_000_000 });
        for (var i = 0; i < extraMemories; i++)
        {
            await session.AddMemoryAsync(Note(i), "note", 0.5);
        }

        var conversation = await session.StartConversationAsync();
        foreach (var line in (string[])["My name is Alice", "I'm interested in quantum physics"])
        {
            await conversation.SendMessageAsync(line);
        }

        Task Turn(int i) => conversation.SendMessageAsync(words is null ? Turns[((i % Turns.Length) + Turns.Length) % Turns.Length] : words(i + 10));
        if (label is null)
        {
            for (var i = 0; i < 200; i++)
            {
                await Turn(i);
            }
        }
        else
        {
            var (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            const int Turns = 200, Warmup = 10;
            // Each turn's GC pause (any thread's collection that stopped it), to tell the tail's collections from the rest.
            var paused = new double[Turns];
            var samples = await Harness.SamplesAsync(Turns, async i =>
            {
                var before = GC.GetTotalPauseDuration();
                await Turn(i);
                if (i >= 0)
                {
                    paused[i] = (GC.GetTotalPauseDuration() - before).TotalMilliseconds;
                }
            }, warmup: Warmup, between: spaced ? () => session.WhenMemoryIndexedAsync() : null);
            Harness.Print(label, samples);
            // Every thread's allocations (the encoder's intra-op threads and the thread pool included), per turn.
            var perTurn = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (Turns + Warmup);
            const double PerThousand = 1000.0 / (Turns + Warmup);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  allocated {perTurn:N0} B per turn; collections per 1k turns: gen0 {(GC.CollectionCount(0) - gen0) * PerThousand:F0}, gen1 {(GC.CollectionCount(1) - gen1) * PerThousand:F0}, gen2 {(GC.CollectionCount(2) - gen2) * PerThousand:F0}"));
            var withPause = paused.Count(p => p > 0);
            var slowest = samples.Select((ms, i) => (ms, i)).OrderByDescending(s => s.ms).Take(Math.Max(2, Turns / 100)).ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {withPause} of {Turns} turns paused for a GC (longest pause {paused.Max():F3} ms); the {slowest.Length} slowest: {string.Join(", ", slowest.Select(s => $"{s.ms:F2} ms (GC {paused[s.i]:F2})"))}"));
        }

        await session.CloseAsync();
    }

    private static async Task MeasureSaveLoadAsync(VoxonClient voxon, FileSessionStorage storage)
    {
        var document = LargeDocument();
        await storage.SaveAsync(document);
        var session = await voxon.LoadSessionAsync(document.SessionId);
        await Harness.MeasureAsync("SaveAsync, 100 conversations x 10 turns, 1,000 memories", 30, _ => session.SaveAsync());
        await Harness.MeasureAsync("LoadSessionAsync, same session", 30, _ => voxon.LoadSessionAsync(document.SessionId));
        await Harness.MeasureAsync("LoadSessionAsync + first search (builds the index)", 30, async _ =>
            (await voxon.LoadSessionAsync(document.SessionId)).SearchMemory("what do I like"));
        // A call's first turn: load, start a conversation, and the user speaks a moment later (the pause is not timed)
        // or at once. Starting the conversation builds the search index in the background, so after a pause the turn
        // does not wait for it; at once it waits for the build under way.
        foreach (var (label, pause) in new[] { ("first turn of a call, 200 ms after StartConversationAsync", 200), ("first turn of a call, right after StartConversationAsync", 0) })
        {
            var samples = new double[30];
            for (var i = -3; i < samples.Length; i++)
            {
                var loaded = await voxon.LoadSessionAsync(document.SessionId);
                var conversation = await loaded.StartConversationAsync();
                await Task.Delay(pause);
                var start = System.Diagnostics.Stopwatch.GetTimestamp();
                await conversation.SendMessageAsync(Turns[3]);
                if (i >= 0)
                {
                    samples[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }

                await loaded.CloseAsync(); // unsaved: every call starts from the same stored session
            }

            Harness.Print(label, samples);
        }

        var bytes = new FileInfo(Path.Combine(storage.Folder, document.SessionId + ".json")).Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"saved file size: {bytes:N0} bytes ({bytes / 1024.0 / 1024.0:F2} MiB)"));
    }

    /// <summary>Built directly (random unit embeddings) so the setup does not dominate the run.</summary>
    private static SessionDocument LargeDocument()
    {
        var random = new Random(42);
        var start = new DateTimeOffset(2024, 1, 15, 10, 0, 0, TimeSpan.Zero);
        var memories = Enumerable.Range(0, 1_000).Select(i => new MemoryEntry
        {
            Id = string.Create(CultureInfo.InvariantCulture, $"mem_{i:x16}"),
            Content = Note(i),
            Category = "note",
            Importance = 0.5,
            CreatedAt = start.AddMinutes(i),
            UpdatedAt = start.AddMinutes(i),
            Source = MemorySource.Extracted,
            TokenCount = TokenCounter.Count(Note(i)),
            Embedding = UnitVector(random),
        }).ToList();
        var conversations = Enumerable.Range(0, 100).Select(c => new ConversationDocument
        {
            ConversationId = string.Create(CultureInfo.InvariantCulture, $"conv_{c:D4}"),
            StartedAt = start.AddHours(c),
            EndedAt = start.AddHours(c).AddMinutes(10),
            LastActivityAt = start.AddHours(c).AddMinutes(10),
            DurationSeconds = 600,
            Turns = [.. Enumerable.Range(0, 10).Select(t => new ConversationTurn
            {
                Role = t % 2 == 0 ? TurnRole.User : TurnRole.Assistant,
                Content = t % 2 == 0 ? $"Message {t} of conversation {c}: tell me about topic {c * 10 + t}." : $"Here is what I know about topic {c * 10 + t}: it is interesting, and we talked about it before.",
                Timestamp = start.AddHours(c).AddMinutes(t),
            })],
        }).ToList();
        return new SessionDocument
        {
            SessionId = "bench-large",
            UserId = "bench",
            CreatedAt = start,
            UpdatedAt = start.AddDays(5),
            Config = new SessionConfig { SessionId = "bench-large", UserId = "bench", MemoryMode = MemoryMode.Persistent, MaxMemorySize = 1_000_000 },
            Memory = new MemoryDocument { Entries = memories, TokenCount = memories.Sum(m => m.TokenCount), MaxTokens = 1_000_000 },
            Conversations = conversations,
        };
    }

    internal static string Note(int i) => string.Create(CultureInfo.InvariantCulture, $"User mentioned project {i} about topic {i % 37} with deadline day {i % 28 + 1}");

    private static float[] UnitVector(Random random)
    {
        var vector = new float[Dimensions];
        var norm = 0.0;
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)(random.NextDouble() * 2 - 1);
            norm += vector[i] * vector[i];
        }

        var scale = (float)(1 / Math.Sqrt(norm));
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] *= scale;
        }

        return vector;
    }
}
