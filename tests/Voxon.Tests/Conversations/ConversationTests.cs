using Voxon.Conversations;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Conversations;

public class ConversationTests
{
    [Fact]
    public async Task Await_using_a_conversation_ends_it_and_saves_the_session()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        Conversation kept;
        await using (var conversation = await session.StartConversationAsync("c1"))
        {
            kept = conversation;
            await conversation.SendMessageAsync("I live in Lisbon");
            Assert.True(conversation.IsActive);
        }

        Assert.False(kept.IsActive);
        Assert.True(session.IsActive);
        var info = Assert.Single(session.Conversations);
        Assert.NotNull(info.EndedAt);
        var stored = await voxon.Storage.LoadAsync(session.SessionId);
        Assert.NotNull(stored);
        Assert.Equal(2, Assert.Single(stored.Conversations).Turns.Count);
        Assert.Contains(stored.Memory.Entries, e => e.Content == "User lives in Lisbon");
    }

    [Fact]
    public async Task Transcript_records_user_and_assistant_turns_in_order()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        var replies = await Alice.SayAllAsync(conversation, Alice.Introduction);

        Assert.Equal(
            [(TurnRole.User, Alice.Introduction[0]), (TurnRole.Assistant, replies[0]), (TurnRole.User, Alice.Introduction[1]), (TurnRole.Assistant, replies[1])],
            conversation.Transcript.Select(t => (t.Role, t.Content)));
        Assert.Equal(4, Assert.Single(session.Conversations).TurnCount);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Empty_message_is_rejected_and_nothing_is_recorded(string text)
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => conversation.SendMessageAsync(text));

        Assert.Empty(conversation.Transcript);
    }
}
