using Microsoft.Extensions.Time.Testing;
using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Storage;

public class FileSessionStorageTests
{
    [Fact]
    public async Task Failure_mid_snapshot_write_leaves_nothing_half_written_and_a_retry_succeeds()
    {
        // Snapshots (first save, compaction) go through a flushed temporary file and a rename; later saves append
        // to the journal, whose torn tail is covered by the crash tests of the storage conformance suite.
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        await session.AddMemoryAsync("User lives in Paris", "location", 0.8);
        voxon.Storage.BeforeCommit = temp =>
        {
            File.Copy(temp, temp + "-left-by-crash");
            throw new IOException("simulated power loss");
        };

        var error = await Assert.ThrowsAsync<VoxonStorageException>(() => session.SaveAsync());
        voxon.Storage.BeforeCommit = null;

        Assert.Equal("save", error.Operation);
        Assert.Equal(0, session.Version);
        Assert.Contains(Directory.GetFiles(voxon.StorageFolder), f => f.EndsWith("-left-by-crash", StringComparison.Ordinal));
        var other = voxon.NewClient();
        await Assert.ThrowsAsync<SessionNotFoundException>(() => other.LoadSessionAsync(session.SessionId));
        Assert.Empty(await other.ListSessionsAsync());

        await session.SaveAsync();
        var loaded = await voxon.NewClient().LoadSessionAsync(session.SessionId);
        Assert.Equal(1, loaded.Version);
        Assert.Contains(loaded.GetMemory().Entries, e => e.Content == "User lives in Paris");
    }

    [Fact]
    public async Task List_filters_by_user_and_orders_by_last_update()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var voxon = new TestVoxon(time: time);
        var a = await voxon.CreateSessionAsync(new SessionConfig { SessionId = "a" });
        time.Advance(TimeSpan.FromMinutes(1));
        var b = await voxon.CreateSessionAsync(new SessionConfig { SessionId = "b" });
        time.Advance(TimeSpan.FromMinutes(1));
        var c = await voxon.CreateSessionAsync(new SessionConfig { SessionId = "c" });
        var bob = await voxon.CreateSessionAsync(new SessionConfig { SessionId = "bobs" }, userId: "bob");
        foreach (var session in new[] { c, a, bob, b })
        {
            await session.SaveAsync();
        }

        time.Advance(TimeSpan.FromMinutes(1));
        await using (var conversation = await a.StartConversationAsync())
        {
            await conversation.SendMessageAsync("Hello!");
        }

        var alices = await voxon.NewClient().ListSessionsAsync("alice");
        var everyone = await voxon.Client.ListSessionsAsync();

        Assert.Equal(["a", "c", "b"], alices.Select(s => s.SessionId));
        Assert.All(alices, s => Assert.Equal("alice", s.UserId));
        Assert.Equal((1, 2), (alices[0].ConversationCount, alices[0].MessageCount));
        Assert.Equal(4, everyone.Count);
        Assert.Equal(["bobs"], (await voxon.Client.ListSessionsAsync("bob")).Select(s => s.SessionId));
        Assert.Empty(await voxon.Client.ListSessionsAsync("carol"));
    }

    [Fact]
    public async Task List_skips_corrupt_files()
    {
        await using var voxon = new TestVoxon();
        var good = await voxon.CreateSessionAsync(new SessionConfig { SessionId = "good" });
        await good.SaveAsync();
        var valid = await File.ReadAllBytesAsync(voxon.PathOf("good"));
        await File.WriteAllBytesAsync(voxon.PathOf("truncated"), valid[..(valid.Length / 2)]);
        await File.WriteAllBytesAsync(voxon.PathOf("garbage"), [0xFF, 0x00, 0x13, 0x37, 0xC3, 0x28]);
        await File.WriteAllTextAsync(voxon.PathOf("number-id"), """{"session_id": 5, "user_id": "alice"}""");
        await File.WriteAllTextAsync(voxon.PathOf("bad-date"), """{"session_id": "bad-date", "user_id": "alice", "created_at": "yesterday", "updated_at": "today", "analytics": {"conversation_count": 0, "message_count": 0}}""");
        await File.WriteAllTextAsync(voxon.PathOf("bad-count"), """{"session_id": "bad-count", "user_id": "alice", "updated_at": "2024-01-01T00:00:00Z", "analytics": {"conversation_count": "many"}}""");
        await File.WriteAllTextAsync(voxon.PathOf("array"), "[1, 2, 3]");

        var listed = await voxon.Client.ListSessionsAsync();

        Assert.Equal(["good"], listed.Select(s => s.SessionId));
    }

    [Fact]
    public async Task Missing_session_gives_SessionNotFoundException()
    {
        await using var voxon = new TestVoxon();

        var error = await Assert.ThrowsAsync<SessionNotFoundException>(() => voxon.Client.LoadSessionAsync("missing"));

        Assert.Equal("missing", error.SessionId);
        Assert.Contains("'missing'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_removes_the_session_and_reports_whether_it_existed()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        await session.SaveAsync();

        Assert.True(await voxon.Client.DeleteSessionAsync(session.SessionId));
        Assert.False(await voxon.Client.DeleteSessionAsync(session.SessionId));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => voxon.Client.LoadSessionAsync(session.SessionId));
        Assert.Empty(await voxon.Client.ListSessionsAsync());
    }
}
