using Microsoft.Extensions.Time.Testing;
using Voxon.Sessions;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Sessions;

public class SessionLifecycleTests
{
    [Fact]
    public async Task New_session_is_active_and_not_stored_until_saved()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();

        Assert.True(session.IsActive);
        Assert.Equal(0, session.Version);
        Assert.False(File.Exists(voxon.PathOf(session.SessionId)));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => voxon.Client.LoadSessionAsync(session.SessionId));

        await session.SaveAsync();

        Assert.True(File.Exists(voxon.PathOf(session.SessionId)));
        Assert.Equal(1, session.Version);
    }

    [Fact]
    public async Task Start_send_save_load_keeps_the_transcript()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 1, 15, 10, 0, 0, TimeSpan.Zero));
        await using var voxon = new TestVoxon(time: time);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync("first");
        var reply = await conversation.SendMessageAsync("Hello!");
        time.Advance(TimeSpan.FromMinutes(5));
        await session.SaveAsync();

        var loaded = await voxon.NewClient().LoadSessionAsync(session.SessionId);

        Assert.Equal(session.SessionId, loaded.SessionId);
        Assert.Equal("alice", loaded.UserId);
        Assert.Equal(session.CreatedAt, loaded.CreatedAt);
        var info = Assert.Single(loaded.Conversations);
        Assert.Equal("first", info.ConversationId);
        Assert.Equal(["Hello!", reply], loaded.GetTranscript("first").Select(t => t.Content));
        Assert.Equal(1, loaded.Version);
    }

    [Fact]
    public async Task Sending_on_an_ended_conversation_throws_a_clear_state_error()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync("c1");
        await conversation.SendMessageAsync("Hello!");
        await conversation.EndAsync();

        var error = await Assert.ThrowsAsync<SessionStateException>(() => conversation.SendMessageAsync("Still there?"));

        Assert.False(conversation.IsActive);
        Assert.Contains("'c1' has ended", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, session.GetTranscript("c1").Count);
    }

    [Fact]
    public async Task Closed_session_rejects_sends_and_starts_with_a_clear_state_error()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();
        await session.CloseAsync();

        var send = await Assert.ThrowsAsync<SessionStateException>(() => conversation.SendMessageAsync("Hello?"));
        var start = await Assert.ThrowsAsync<SessionStateException>(() => session.StartConversationAsync());
        var save = await Assert.ThrowsAsync<SessionStateException>(() => session.SaveAsync());

        Assert.False(session.IsActive);
        Assert.False(conversation.IsActive);
        foreach (var error in new[] { send, start, save })
        {
            Assert.Contains($"Session '{session.SessionId}' is closed", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Resume_without_id_picks_the_most_recently_active_conversation()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var voxon = new TestVoxon(time: time);
        var session = await voxon.CreateSessionAsync();
        await using (var older = await session.StartConversationAsync("older"))
        {
            time.Advance(TimeSpan.FromMinutes(1));
            await older.SendMessageAsync("Hello!");
        }

        time.Advance(TimeSpan.FromMinutes(1));
        await using (var newer = await session.StartConversationAsync("newer"))
        {
            time.Advance(TimeSpan.FromMinutes(1));
            await newer.SendMessageAsync("Hi again!");
        }

        var resumed = await session.ResumeConversationAsync();
        var byId = await session.ResumeConversationAsync("older");

        Assert.Equal("newer", resumed.ConversationId);
        Assert.True(resumed.IsActive);
        Assert.Equal("older", byId.ConversationId);
        Assert.Equal(2, byId.Transcript.Count);
    }

    [Fact]
    public async Task Resume_of_an_unknown_id_or_an_empty_session_throws()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();

        var none = await Assert.ThrowsAsync<SessionStateException>(() => session.ResumeConversationAsync());
        await session.StartConversationAsync("known");
        var unknown = await Assert.ThrowsAsync<SessionStateException>(() => session.ResumeConversationAsync("nope"));

        Assert.Contains("no conversation to resume", none.Message, StringComparison.Ordinal);
        Assert.Contains("no conversation 'nope'", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Duplicate_conversation_id_throws_and_keeps_the_first()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var first = await session.StartConversationAsync("main");
        await first.SendMessageAsync("Hello!");

        var error = await Assert.ThrowsAsync<SessionStateException>(() => session.StartConversationAsync("main"));

        Assert.Contains("already has a conversation 'main'", error.Message, StringComparison.Ordinal);
        Assert.Single(session.Conversations);
        Assert.Equal(2, session.GetTranscript("main").Count);
    }

    [Fact]
    public async Task Branch_from_a_missing_parent_throws()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();

        await Assert.ThrowsAsync<SessionStateException>(() => session.StartConversationAsync("branch", parentId: "missing"));

        Assert.Empty(session.Conversations);
    }

    [Fact]
    public async Task Await_using_a_session_saves_and_closes_it()
    {
        await using var voxon = new TestVoxon();
        Session kept;
        await using (var session = await voxon.CreateSessionAsync())
        {
            kept = session;
            var conversation = await session.StartConversationAsync("c1");
            await conversation.SendMessageAsync("My name is Alice");
        }

        Assert.False(kept.IsActive);
        var loaded = await voxon.NewClient().LoadSessionAsync(kept.SessionId);
        Assert.Equal(2, loaded.GetTranscript("c1").Count);
        Assert.Contains(loaded.GetMemory().Entries, e => e.Content == "User's name is Alice");
    }

    [Fact]
    public async Task Closed_session_reloads_and_continues()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        await Alice.IntroduceAsync(session);
        await session.CloseAsync();

        var reloaded = await voxon.Client.LoadSessionAsync(session.SessionId);
        var resumed = await reloaded.ResumeConversationAsync();

        Assert.True(reloaded.IsActive);
        Assert.Equal(session.Conversations[0].ConversationId, resumed.ConversationId);
        Assert.NotEmpty(await resumed.SendMessageAsync("Thanks"));
    }
}
