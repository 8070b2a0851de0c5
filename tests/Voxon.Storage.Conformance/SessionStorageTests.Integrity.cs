using Microsoft.Extensions.Time.Testing;
using Voxon.Conversations;
using Voxon.Sessions;
using Voxon.Storage.Worker;
using Xunit.Sdk;

namespace Voxon.Storage.Conformance;

/// <summary>Integrity: what a save stores is what a load returns, and damage is reported, never loaded as less.</summary>
public abstract partial class SessionStorageTests<TFixture>
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    [SkippableFact]
    public virtual async Task Compressed_memories_survive_save_and_load()
    {
        var storage = Open();
        var time = new FakeTimeProvider(Start);
        await using var client = WorkerStorage.Client(storage, time);
        var session = await client.CreateSessionAsync("user_compress");
        foreach (var interest in new[] { "astronomy", "jazz", "sailing" })
        {
            await session.AddMemoryAsync($"User is interested in {interest}", "interest");
        }

        await session.SaveAsync();
        time.Advance(TimeSpan.FromMilliseconds(30));
        var compression = await session.CompressMemoryAsync(0);
        Assert.Single(compression.Summaries);
        await session.SaveAsync();

        var loaded = await client.LoadSessionAsync(session.SessionId);
        var summary = Assert.Single(loaded.GetMemory().Entries);
        Assert.Equal(compression.Summaries[0].Id, summary.Id);
        Assert.Contains("jazz", summary.Content, StringComparison.Ordinal);
    }

    [SkippableFact]
    public virtual async Task Random_operation_sequences_save_and_load_to_the_state_in_memory()
    {
        var storage = Open();
        var seed = int.TryParse(Environment.GetEnvironmentVariable("VOXON_PROPERTY_SEED"), out var fixedSeed) ? fixedSeed : Random.Shared.Next(int.MaxValue / 2);
        var runs = int.TryParse(Environment.GetEnvironmentVariable("VOXON_PROPERTY_RUNS"), out var fixedRuns) ? fixedRuns : PropertyRuns;
        var time = new FakeTimeProvider(Start);
        await using var client = WorkerStorage.Client(storage, time);
        var compressed = 0;
        for (var run = 0; run < runs; run++)
        {
            var log = new List<string>();
            try
            {
                compressed += await RunSequenceAsync(client, time, new Random(seed + run), log);
            }
            catch (Exception ex) when (ex is not Xunit.SkipException)
            {
                throw new XunitException($"Sequence {run} of {runs} failed on {storage.BackendName}; rerun it with VOXON_PROPERTY_SEED={seed + run} VOXON_PROPERTY_RUNS=1.\nOperations: {string.Join("; ", log)}\n{ex}");
            }
        }

        // The sequences must reach the paths that change memory behind the caller's back, or they prove nothing.
        Assert.True(runs < 100 || compressed > runs / 100, $"only {compressed} of {runs} sequences compressed memory (seed {seed})");
    }

    /// <summary>Random operation sequences per run of <see cref="Random_operation_sequences_save_and_load_to_the_state_in_memory"/>.</summary>
    protected virtual int PropertyRuns => 2000;

    [SkippableFact]
    public virtual async Task Deleted_trailing_records_are_reported_not_loaded_as_less()
    {
        var storage = Open(SessionEncryption.FromKey(Key1));
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_trailing");
        await session.AddMemoryAsync("first memory");
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("first message");
        await session.SaveAsync();
        await session.AddMemoryAsync("second memory");
        await conversation.SendMessageAsync("second message");
        await session.SaveAsync();
        Assert.Equal(4, (await storage.LoadAsync(session.SessionId))!.Conversations[0].Turns.Count);

        await Fixture.DeleteLastRecordAsync(session.SessionId, "turn");
        var error = await Assert.ThrowsAsync<SessionCorruptException>(() => storage.LoadAsync(session.SessionId));
        Assert.Equal(session.SessionId, error.SessionId);
        await Assert.ThrowsAsync<SessionCorruptException>(() => client.LoadSessionAsync(session.SessionId));

        var other = await client.CreateSessionAsync("user_trailing");
        await other.AddMemoryAsync("kept memory");
        await other.AddMemoryAsync("deleted memory");
        await other.SaveAsync();
        await other.SetPreferenceAndSaveAsync();
        await Fixture.DeleteLastRecordAsync(other.SessionId, "memory");
        await Assert.ThrowsAsync<SessionCorruptException>(() => storage.LoadAsync(other.SessionId));
    }

    [SkippableFact]
    public virtual async Task Random_damage_to_stored_records_loads_the_saved_version_or_reports_corruption()
    {
        var storage = Open(SessionEncryption.FromKey(Key1));
        var seed = Random.Shared.Next(int.MaxValue / 2);
        await using var client = WorkerStorage.Client(storage);
        var outcomes = new Dictionary<string, int>();
        for (var run = 0; run < 60; run++)
        {
            var random = new Random(seed + run);
            var session = await client.CreateSessionAsync("user_damage");
            var conversation = await session.StartConversationAsync();
            for (var save = 0; save < 3; save++)
            {
                await session.AddMemoryAsync($"damage fact {save} of run {run}");
                await conversation.SendMessageAsync($"damage message {save}");
                await session.SaveAsync();
            }

            var expected = SessionDocumentSerializer.Serialize((await storage.LoadAsync(session.SessionId))!);
            var damage = await Fixture.DamageAsync(session.SessionId, random);
            string outcome;
            try
            {
                var loaded = await storage.LoadAsync(session.SessionId);
                if (loaded is null || !SessionDocumentSerializer.Serialize(loaded).AsSpan().SequenceEqual(expected))
                {
                    throw new XunitException($"Run {run} (seed {seed + run}): after {damage} the load returned {(loaded is null ? "nothing" : $"version {loaded.Version}, another session")} without an error.");
                }

                outcome = "intact";
            }
            catch (SessionCorruptException ex)
            {
                Assert.Equal(session.SessionId, ex.SessionId);
                outcome = "corrupt";
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        Assert.True(outcomes.GetValueOrDefault("corrupt") > 0, "no damage was detected at all: " + string.Join(", ", outcomes));
    }

    private static readonly string[] Facts =
    [
        "User likes green tea", "User plays the cello", "User is learning Japanese", "User has a dog named Rex",
        "User works night shifts", "User's locker code is ZEBRA7731", "User prefers short answers", "User likes green tea",
    ];

    private static readonly string[] Messages =
    [
        "My name is Alice", "Actually, call me Bob", "I live in Paris", "I moved to Lisbon", "I'm interested in astronomy",
        "I love jazz music", "What's my name?", "I work at Contoso", "Tell me something about my hobbies",
    ];

    private static readonly string?[] Categories = ["general", "interest", "preference", "note"];

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary>One random sequence of operations on a new session, checked against storage after every save;
    /// returns how many compressions made a summary.</summary>
    private static async Task<int> RunSequenceAsync(VoxonClient client, FakeTimeProvider time, Random random, List<string> log)
    {
        var config = new SessionConfig
        {
            MemoryMode = random.Next(8) switch { 0 => MemoryMode.Ephemeral, < 4 => MemoryMode.Persistent, _ => MemoryMode.Hybrid },
            MaxMemorySize = Pick(random, [40, 120, 100_000]),
        };
        log.Add($"create {config.MemoryMode} max {config.MaxMemorySize}");
        var session = await client.CreateSessionAsync("user_property", config);
        Conversation? conversation = null;
        var compressions = 0;
        var operations = random.Next(1, 16);
        for (var i = 0; i < operations; i++)
        {
            switch (random.Next(13))
            {
                case 0 or 1:
                    var content = Pick(random, Facts);
                    var category = Pick(random, Categories)!;
                    var importance = Pick(random, [0.2, 0.5, 0.9, 1.0]);
                    var expires = random.Next(5) == 0 ? TimeSpan.FromHours(random.Next(1, 48)) : (TimeSpan?)null;
                    var sensitive = random.Next(4) == 0;
                    log.Add($"add '{content}' {category} {importance} expires {expires} sensitive {sensitive}");
                    await session.AddMemoryAsync(content, category, importance, expires, sensitive);
                    break;
                case 2 or 3:
                    conversation ??= await session.StartConversationAsync();
                    var message = Pick(random, Messages);
                    log.Add($"send '{message}'");
                    await conversation.SendMessageAsync(message);
                    break;
                case 4:
                    log.Add(conversation is null ? "start" : "branch");
                    conversation = await session.StartConversationAsync(parentId: conversation?.ConversationId);
                    break;
                case 5:
                    var cleared = random.Next(3) == 0 ? null : Pick(random, Categories);
                    log.Add($"clear {cleared ?? "all"}");
                    session.ClearMemory(cleared);
                    break;
                case 6:
                    var hours = random.Next(1, 24 * 10);
                    log.Add($"advance {hours} h");
                    time.Advance(TimeSpan.FromHours(hours));
                    break;
                case 7:
                    var days = random.Next(0, 3);
                    var compression = await session.CompressMemoryAsync(days);
                    log.Add($"compress {days}: {compression.Summaries.Count} summaries");
                    compressions += compression.Summaries.Count > 0 ? 1 : 0;
                    break;
                case 8:
                    log.Add("preference");
                    session.SetPreference(Pick(random, ["tone", "formality"]), Pick(random, ["warm", "always_formal", "brief"]));
                    break;
                case 9:
                    if (conversation is not null)
                    {
                        log.Add("end conversation");
                        await conversation.EndAsync();
                        conversation = null;
                    }

                    break;
                case 11:
                    var mode = Pick(random, [MemoryMode.Ephemeral, MemoryMode.Persistent, MemoryMode.Hybrid]);
                    log.Add($"memory mode {mode}");
                    session.Config.MemoryMode = mode;
                    break;
                case 10:
                    log.Add("save");
                    await session.SaveAsync();
                    await AssertStoredAsync(client, session);
                    break;
                default:
                    var lazy = random.Next(2) == 0;
                    log.Add($"save and reload{(lazy ? " lazily" : string.Empty)}");
                    await session.SaveAsync();
                    session = await client.LoadSessionAsync(session.SessionId, lazy);
                    conversation = null;
                    break;
            }
        }

        log.Add("save");
        await session.SaveAsync();
        await AssertStoredAsync(client, session);
        return compressions;
    }

    /// <summary>The session as loaded from storage equals <paramref name="session"/>: version, what memory persists, conversations and transcripts.</summary>
    private static async Task AssertStoredAsync(VoxonClient client, Session session)
    {
        var loaded = await client.LoadSessionAsync(session.SessionId);
        Assert.Equal(session.Version, loaded.Version);
        static IEnumerable<(string, string, string, double, bool, DateTimeOffset?)> Persisted(Session s) =>
            s.GetMemory().Entries.Where(e => !e.Transient && s.Config.MemoryMode != MemoryMode.Ephemeral).Select(e => (e.Id, e.Content, e.Category, e.Importance, e.Sensitive, e.ExpiresAt)).OrderBy(e => e.Id, StringComparer.Ordinal);
        Assert.Equal(Persisted(session), Persisted(loaded));
        Assert.Equal(session.Conversations.Select(c => (c.ConversationId, c.ParentId, c.TurnCount)), loaded.Conversations.Select(c => (c.ConversationId, c.ParentId, c.TurnCount)));
        foreach (var conversation in session.Conversations)
        {
            Assert.Equal(session.GetTranscript(conversation.ConversationId).Select(t => t.Content), loaded.GetTranscript(conversation.ConversationId).Select(t => t.Content));
        }
    }
}

internal static class SessionTestExtensions
{
    /// <summary>A save that changes only the head, so the memory records of the save before are the newest.</summary>
    public static Task SetPreferenceAndSaveAsync(this Session session)
    {
        session.SetPreference("tone", "warm");
        return session.SaveAsync();
    }
}
