using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Sessions;

/// <summary>The spec's "Conversation Continuity" example, end to end through the public API with the offline engine.</summary>
public class ContinuityTests
{
    [Fact]
    public async Task Later_conversation_in_the_same_session_remembers_name_and_interest()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        await Alice.IntroduceAsync(session);

        await using var later = await session.StartConversationAsync();
        var reply = await later.SendMessageAsync(Alice.Question);

        Alice.AssertRemembered(reply);
    }

    [Fact]
    public async Task Save_then_load_in_new_client_keeps_memory()
    {
        await using var voxon = new TestVoxon();
        string sessionId;
        await using (var session = await voxon.CreateSessionAsync())
        {
            sessionId = session.SessionId;
            await Alice.IntroduceAsync(session);
            await session.SaveAsync();
        }

        var loaded = await voxon.NewClient().LoadSessionAsync(sessionId);
        await using var later = await loaded.StartConversationAsync();
        var reply = await later.SendMessageAsync(Alice.Question);

        Alice.AssertRemembered(reply);
        Assert.Equal(2, loaded.Conversations.Count);
    }

    [Fact]
    public async Task A_new_session_without_memory_says_it_does_not_know()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        var reply = await conversation.SendMessageAsync(Alice.Question);

        Assert.DoesNotContain("Alice", reply, StringComparison.Ordinal);
        Assert.Contains("don't know", reply, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Memory_entries_carry_o200k_token_counts()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        await Alice.IntroduceAsync(session);
        var tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");

        var memory = session.GetMemory();

        Assert.Equal(["User's name is Alice", "User is interested in quantum physics"], memory.Entries.Select(e => e.Content));
        foreach (var entry in memory.Entries)
        {
            Assert.Equal(tokenizer.CountTokens(entry.Content), entry.TokenCount);
            Assert.True(entry.TokenCount > 1);
        }

        Assert.Equal(memory.Entries.Sum(e => tokenizer.CountTokens(e.Content)), memory.TokenCount);
        Assert.Equal(10_000, memory.MaxTokens);
    }

    [Fact]
    public async Task Resumed_conversation_sends_its_previous_turns_to_the_engine()
    {
        var chat = new RecordingChatClient();
        await using var voxon = new TestVoxon(chat);
        string sessionId;
        IReadOnlyList<string> replies;
        await using (var session = await voxon.CreateSessionAsync())
        {
            sessionId = session.SessionId;
            await using var conversation = await session.StartConversationAsync("talk");
            replies = await Alice.SayAllAsync(conversation, Alice.Introduction);
        }

        var loaded = await voxon.NewClient().LoadSessionAsync(sessionId);
        var resumed = await loaded.ResumeConversationAsync();
        await resumed.SendMessageAsync("Tell me more");

        Assert.Equal("talk", resumed.ConversationId);
        Assert.Equal(
            [
                (ChatRole.User, Alice.Introduction[0]),
                (ChatRole.Assistant, replies[0]),
                (ChatRole.User, Alice.Introduction[1]),
                (ChatRole.Assistant, replies[1]),
                (ChatRole.User, "Tell me more"),
            ],
            chat.Last.Dialogue);
    }

    [Fact]
    public async Task Started_conversation_does_not_carry_another_conversations_turns()
    {
        var chat = new RecordingChatClient();
        await using var voxon = new TestVoxon(chat);
        var session = await voxon.CreateSessionAsync();
        await Alice.IntroduceAsync(session);

        var fresh = await session.StartConversationAsync();
        await fresh.SendMessageAsync(Alice.Question);

        Assert.Equal([(ChatRole.User, Alice.Question)], chat.Last.Dialogue);
        Assert.Contains(chat.Last.System, m => m.Text.Contains("User's name is Alice", StringComparison.Ordinal));
    }
}
