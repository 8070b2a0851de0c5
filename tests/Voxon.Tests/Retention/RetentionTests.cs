using Microsoft.Extensions.Time.Testing;
using Voxon.Events;
using Voxon.Retention;
using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Retention;

/// <summary>Retention by age, per-user limits, idle timeouts and memory lifetimes, on a fake clock.</summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task Prune_deletes_only_sessions_older_than_the_age_and_dry_run_deletes_nothing()
    {
        var time = NewYear();
        await using var voxon = new TestVoxon(time: time);
        var old = new List<string>();
        foreach (var user in new[] { "user_a", "user_b", "user_a" })
        {
            var session = await voxon.Client.CreateSessionAsync(user);
            await session.SaveAsync();
            old.Add(session.SessionId);
        }

        time.Advance(TimeSpan.FromDays(100));
        var recent = await voxon.Client.CreateSessionAsync("user_a");
        await recent.SaveAsync();
        time.Advance(TimeSpan.FromDays(1));

        var dry = await voxon.Client.PruneSessionsAsync(TimeSpan.FromDays(90), dryRun: true);
        Assert.True(dry.DryRun);
        Assert.Equal(old.Order(), dry.SessionIds.Order());
        Assert.Equal(4, (await voxon.Client.ListSessionsAsync()).Count);

        var onlyB = await voxon.Client.PruneSessionsAsync(TimeSpan.FromDays(90), "user_b");
        Assert.Equal([old[1]], onlyB.SessionIds);

        var rest = await voxon.Client.PruneSessionsAsync(TimeSpan.FromDays(90));
        Assert.Equal(new[] { old[0], old[2] }.Order(), rest.SessionIds.Order());
        Assert.Equal([recent.SessionId], (await voxon.Client.ListSessionsAsync()).Select(s => s.SessionId));

        // Nothing left to prune: running again (as after a crash) is a no-op.
        Assert.Empty((await voxon.Client.PruneSessionsAsync(TimeSpan.FromDays(90))).SessionIds);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => voxon.Client.PruneSessionsAsync(TimeSpan.Zero));
    }

    [Fact]
    public async Task Prune_lists_once_for_all_batches_and_keeps_a_session_saved_after_the_listing()
    {
        var time = NewYear();
        await using var voxon = new TestVoxon(time: time);
        var ids = new List<string>();
        for (var i = 0; i < SessionPruner.BatchSize + 5; i++)
        {
            var session = await voxon.Client.CreateSessionAsync("user_many");
            await session.SaveAsync();
            ids.Add(session.SessionId);
        }

        time.Advance(TimeSpan.FromDays(100));
        var storage = new ListingProbe(new FileSessionStorage(voxon.StorageFolder));
        var client = voxon.NewClient(storage);

        // Between the listing and the deletions, another process works in the newest of the old sessions.
        storage.AfterFirstListing = async () =>
        {
            var other = await voxon.NewClient().LoadSessionAsync(ids[^1]);
            await other.AddMemoryAsync("still in use");
            await other.SaveAsync();
        };
        var result = await client.PruneSessionsAsync(TimeSpan.FromDays(90));

        Assert.Equal(1, storage.Listings);
        Assert.Equal(ids[..^1].Order(), result.SessionIds.Order());
        Assert.Equal([ids[^1]], (await voxon.Client.ListSessionsAsync()).Select(s => s.SessionId));
    }

    [Fact]
    public async Task Prune_keeps_a_session_saved_between_its_age_check_and_its_deletion()
    {
        var time = NewYear();
        await using var voxon = new TestVoxon(time: time);
        string[] ids = [(await SavedSessionAsync(voxon, "user_busy")).SessionId, (await SavedSessionAsync(voxon, "user_busy")).SessionId];
        time.Advance(TimeSpan.FromDays(100));
        var storage = new ListingProbe(new FileSessionStorage(voxon.StorageFolder));
        var client = voxon.NewClient(storage);

        // The pruner has just found ids[0] idle when another process saves to it: that save is acknowledged.
        storage.AfterHeadRead = async id =>
        {
            if (id == ids[0])
            {
                storage.AfterHeadRead = null;
                var other = await voxon.NewClient().LoadSessionAsync(id);
                await other.AddMemoryAsync("saved while pruning");
                await other.SaveAsync();
            }
        };
        var result = await client.PruneSessionsAsync(TimeSpan.FromDays(90));

        Assert.Equal([ids[1]], result.SessionIds);
        var kept = await voxon.Client.Storage.LoadAsync(ids[0]);
        Assert.NotNull(kept);
        Assert.Contains(kept.Memory.Entries, e => e.Content == "saved while pruning");
    }

    [Fact]
    public async Task Idle_session_is_saved_and_closed_after_the_timeout_and_activity_resets_the_clock()
    {
        var (time, logs) = (NewYear(), new LogCollector());
        await using var voxon = new TestVoxon(time: time, configure: o => IdleAfter30Minutes(o, logs));
        var session = await voxon.Client.CreateSessionAsync("user_idle");
        var closed = new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Events.On(SessionEventNames.SessionClosed, e => closed.TrySetResult(e.Data));
        await session.AddMemoryAsync("first fact");

        time.Advance(TimeSpan.FromMinutes(29));
        await session.AddMemoryAsync("second fact, at 29 minutes");
        time.Advance(TimeSpan.FromMinutes(29));
        Assert.True(session.IsActive);
        Assert.False(closed.Task.IsCompleted);

        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("idle_timeout", await closed.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(session.IsActive);
        Assert.Contains(logs.Messages, m => m.Contains("closed after 00:30:00 without activity", StringComparison.Ordinal));

        // Saved before closing: a new process finds both memories.
        var stored = await voxon.NewClient().LoadSessionAsync(session.SessionId);
        Assert.Equal(["first fact", "second fact, at 29 minutes"], stored.GetMemory().Entries.Select(e => e.Content).Order(StringComparer.Ordinal));

        // The closed object says why, and how to go on; disposing it is still harmless.
        var error = await Assert.ThrowsAsync<SessionStateException>(() => session.AddMemoryAsync("too late"));
        Assert.Contains("session_timeout", error.Message, StringComparison.Ordinal);
        Assert.Contains($"LoadSessionAsync(\"{session.SessionId}\")", error.Message, StringComparison.Ordinal);
        await session.DisposeAsync();
        Assert.Contains("session_timeout must be positive", Assert.Throws<VoxonConfigurationException>(() => new VoxonOptions { SessionTimeout = TimeSpan.Zero }.Validate()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Idle_timeout_never_closes_a_session_while_a_turn_is_in_flight()
    {
        var (time, logs) = (NewYear(), new LogCollector());

        // The model takes two hours of the clock to answer: the timeout falls due in the middle of the turn.
        await using var voxon = new TestVoxon(new RecordingChatClient(time, TimeSpan.FromHours(2)), time, o => IdleAfter30Minutes(o, logs));
        var session = await voxon.Client.CreateSessionAsync("user_busy");
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My name is Dana.");
        await logs.WaitForAsync("stays open");
        Assert.True(session.IsActive);
        Assert.Equal(2, conversation.Transcript.Count);

        // The turn's end restarted the clock: the session closes one timeout after it, not before.
        time.Advance(TimeSpan.FromMinutes(29));
        Assert.True(session.IsActive);
        time.Advance(TimeSpan.FromMinutes(32));
        await logs.WaitForAsync("closed after");
        Assert.False(session.IsActive);
        var stored = await voxon.NewClient().LoadSessionAsync(session.SessionId);
        Assert.Equal(2, stored.GetTranscript(conversation.ConversationId).Count);
    }

    [Fact]
    public async Task Idle_timeout_waits_for_an_open_batch_whose_save_is_deferred()
    {
        var (time, logs) = (NewYear(), new LogCollector());
        await using var voxon = new TestVoxon(time: time, configure: o => IdleAfter30Minutes(o, logs));
        var session = await voxon.Client.CreateSessionAsync("user_batch");
        var batch = session.BatchUpdate();
        await session.AddMemoryAsync("made inside the batch");

        // Closing now would drop the batch's changes: its save waits for the batch's end.
        time.Advance(TimeSpan.FromMinutes(31));
        await logs.WaitForAsync("stays open");
        Assert.True(session.IsActive);
        await batch.DisposeAsync();

        time.Advance(TimeSpan.FromMinutes(31));
        await logs.WaitForAsync("closed after");
        Assert.Equal(["made inside the batch"], (await voxon.NewClient().LoadSessionAsync(session.SessionId)).GetMemory().Entries.Select(e => e.Content));
    }

    [Fact]
    public async Task Category_ttl_expires_memories_by_stored_time_on_search_and_load_and_the_save_removes_them()
    {
        var time = NewYear();
        await using var voxon = new TestVoxon(time: time, configure: o => o.MemoryTtl["symptoms"] = TimeSpan.FromDays(30));
        var session = await voxon.Client.CreateSessionAsync("user_ttl");

        // Told today about last year: the lifetime counts from when it was stored, so it is kept for now.
        await session.AddMemoryAsync("Had a migraine last spring", "symptoms", occurredAt: time.GetUtcNow().AddDays(-300));
        await session.AddMemoryAsync("Likes jazz", "interests");
        time.Advance(TimeSpan.FromDays(20));
        await session.AddMemoryAsync("Sore throat since Monday", "symptoms");
        await session.SaveAsync();
        Assert.Equal(3, session.GetMemory().Entries.Count);

        time.Advance(TimeSpan.FromDays(11));
        Assert.Equal(["Likes jazz", "Sore throat since Monday"], session.GetMemory().Entries.Select(e => e.Content).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(await session.SearchMemoryAsync("migraine", category: "symptoms"), r => r.Entry.Content.Contains("migraine", StringComparison.Ordinal));
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("What symptoms have I had?");
        Assert.Contains("Sore throat", conversation.LastContext!.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("migraine", conversation.LastContext.Text, StringComparison.Ordinal);
        await session.SaveAsync();

        // The removal was saved: a reader without the policy no longer finds it.
        var unboundedOptions = voxon.Options(new FileSessionStorage(voxon.StorageFolder));
        unboundedOptions.MemoryTtl.Clear();
        await using var unbounded = new VoxonClient(unboundedOptions);
        Assert.Equal(["Likes jazz", "Sore throat since Monday"], await StoredMemoriesAsync(unbounded, session.SessionId));

        // Expired while stored: dropped on load, before any read, and so removed by the next save.
        time.Advance(TimeSpan.FromDays(20));
        var loaded = await voxon.NewClient().LoadSessionAsync(session.SessionId);
        await loaded.SaveAsync();
        Assert.Equal(["Likes jazz"], await StoredMemoriesAsync(unbounded, session.SessionId));
    }

    private static async Task<List<string>> StoredMemoriesAsync(VoxonClient client, string sessionId) =>
        [.. (await client.Storage.LoadAsync(sessionId))!.Memory.Entries.Where(e => e.SupersededBy is null).Select(e => e.Content).Order(StringComparer.Ordinal)];

    [Fact]
    public void Memory_ttl_options_are_validated_with_every_problem_named()
    {
        var options = new VoxonOptions();
        options.MemoryTtl["symptoms"] = TimeSpan.FromDays(-1);
        options.MemoryTtl["bad category!"] = TimeSpan.FromDays(1);
        options.MemoryTtl["contact"] = TimeSpan.FromDays(40_000);
        var error = Assert.Throws<VoxonConfigurationException>(options.Validate);
        Assert.Contains("memory_ttl['symptoms'] must be positive", error.Message, StringComparison.Ordinal);
        Assert.Contains("'bad category!' is not a memory category", error.Message, StringComparison.Ordinal);
        Assert.Contains("memory_ttl['contact']", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Creating_a_session_past_the_per_user_limit_fails_clearly()
    {
        await using var voxon = new TestVoxon(configure: o => o.MaxSessionsPerUser = 2);
        for (var i = 0; i < 2; i++)
        {
            await (await voxon.Client.CreateSessionAsync("user_limited")).SaveAsync();
        }

        var error = await Assert.ThrowsAsync<SessionLimitException>(() => voxon.Client.CreateSessionAsync("user_limited"));
        Assert.Contains("max_sessions_per_user", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, error.Limit);
        await (await voxon.Client.CreateSessionAsync("user_other")).SaveAsync();
        Assert.Contains("max_sessions_per_user", Assert.Throws<VoxonConfigurationException>(() => new VoxonOptions { MaxSessionsPerUser = 0 }.Validate()).Message, StringComparison.Ordinal);
    }

    private static async Task<Session> SavedSessionAsync(TestVoxon voxon, string userId)
    {
        var session = await voxon.Client.CreateSessionAsync(userId);
        await session.SaveAsync();
        return session;
    }

    private static FakeTimeProvider NewYear() => new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private static void IdleAfter30Minutes(VoxonOptions options, LogCollector logs)
    {
        options.SessionTimeout = TimeSpan.FromMinutes(30);
        options.LoggerFactory = logs.Factory;
    }

    /// <summary>Counts listings and runs an action once after the first, and one after each read of a session's head.</summary>
    private sealed class ListingProbe(SessionStorage inner) : DelegatingSessionStorage(inner)
    {
        public int Listings { get; private set; }

        public Func<Task>? AfterFirstListing { get; set; }

        public Func<string, Task>? AfterHeadRead { get; set; }

        public override async Task<SessionDocument?> LoadMetadataAsync(string sessionId, CancellationToken cancellationToken = default)
        {
            var head = await InnerStorage.LoadMetadataAsync(sessionId, cancellationToken);
            if (AfterHeadRead is { } action)
            {
                await action(sessionId);
            }

            return head;
        }

        public override async Task<IReadOnlyList<SessionSummary>> ListAsync(string? userId = null, CancellationToken cancellationToken = default)
        {
            var listing = await InnerStorage.ListAsync(userId, cancellationToken);
            if (++Listings == 1 && AfterFirstListing is { } action)
            {
                await action();
            }

            return listing;
        }
    }
}
