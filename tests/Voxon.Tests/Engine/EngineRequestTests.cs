using Microsoft.Extensions.AI;
using Voxon.Engine;
using Voxon.Sessions;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Engine;

public class EngineRequestTests
{
    [Fact]
    public async Task Request_carries_instructions_sampling_history_and_woven_memory()
    {
        var chat = new RecordingChatClient();
        await using var voxon = new TestVoxon(chat);
        var session = await voxon.CreateSessionAsync(new SessionConfig
        {
            Instructions = "You are a terse pirate",
            Temperature = 0.3,
            MaxOutputTokens = 321,
        });
        await using (var first = await session.StartConversationAsync())
        {
            await first.SendMessageAsync("My name is Alice");
        }

        var conversation = await session.StartConversationAsync();
        var hello = await conversation.SendMessageAsync("Hello!");
        await conversation.SendMessageAsync("What's my name?");

        var request = chat.Last;
        Assert.Equal(0.3f, request.Options!.Temperature);
        Assert.Equal(321, request.Options.MaxOutputTokens);
        var system = request.System.Select(m => m.Text).ToList();
        Assert.Equal("You are a terse pirate", system[0]);
        Assert.Equal(ChatRole.System, request.Messages[0].Role);
        Assert.Contains(system.Skip(1), text => text.Contains("- User's name is Alice", StringComparison.Ordinal));
        Assert.Equal(
            [(ChatRole.User, "Hello!"), (ChatRole.Assistant, hello), (ChatRole.User, "What's my name?")],
            request.Dialogue);
        Assert.Equal(ChatRole.User, request.Messages[^1].Role);
    }

    [Fact]
    public async Task Language_is_added_to_the_instructions()
    {
        var chat = new RecordingChatClient();
        await using var voxon = new TestVoxon(chat);
        var session = await voxon.CreateSessionAsync(new SessionConfig { Language = "fr-FR" });
        var conversation = await session.StartConversationAsync();

        await conversation.SendMessageAsync("Bonjour");

        Assert.Contains("fr-FR", chat.Last.Messages[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_memory_no_context_message_is_sent()
    {
        var chat = new RecordingChatClient();
        await using var voxon = new TestVoxon(chat);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        await conversation.SendMessageAsync("Hello!");

        Assert.Single(chat.Last.System);
    }

    [Fact]
    public async Task Failing_model_gives_EngineException_and_records_nothing()
    {
        var chat = new RecordingChatClient { Failure = new HttpRequestException("connection refused") };
        await using var voxon = new TestVoxon(chat);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        var error = await Assert.ThrowsAsync<EngineException>(() => conversation.SendMessageAsync("My name is Alice"));

        Assert.Contains("connection refused", error.Message, StringComparison.Ordinal);
        Assert.Empty(conversation.Transcript);
        Assert.Empty(session.GetMemory().Entries);
        Assert.True(conversation.IsActive);
    }

    [Fact]
    public async Task Empty_model_answer_gives_EngineException_and_records_nothing()
    {
        var chat = new RecordingChatClient { FixedReply = "  " };
        await using var voxon = new TestVoxon(chat);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        await Assert.ThrowsAsync<EngineException>(() => conversation.SendMessageAsync("Hello!"));

        Assert.Empty(conversation.Transcript);
    }

    [Fact]
    public async Task Offline_engine_answers_an_open_question_from_the_facts_that_share_a_content_word_in_any_case()
    {
        using var offline = new OfflineChatClient();
        ChatMessage[] Ask(string question) =>
        [
            new(ChatRole.System, "Known about the user:\n- User's sister Maren lives near OSLO.\n- User has a TELESCOPE at home.\n- User would like that."),
            new(ChatRole.User, question),
        ];

        var answer = (await offline.GetResponseAsync(Ask("Anything about Oslo or my telescope?"))).Text;
        Assert.Contains("OSLO", answer, StringComparison.Ordinal);
        Assert.Contains("TELESCOPE", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("would like", answer, StringComparison.Ordinal);

        // Words of three letters or fewer and stop words ("would", "that") match nothing.
        var unknown = (await offline.GetResponseAsync(Ask("Would you say that has any sun?"))).Text;
        Assert.StartsWith("I don't know that yet", unknown, StringComparison.Ordinal);
    }
}
