using Voxon.Memory;
using Voxon.Sessions;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Memory;

public class MemoryExtractorTests
{
    [Theory]
    [InlineData("My name is Alice", "User's name is Alice", "identity", "identity.name")]
    [InlineData("my name's Alice Smith.", "User's name is Alice Smith", "identity", "identity.name")]
    [InlineData("Please call me Bob", "User's name is Bob", "identity", "identity.name")]
    [InlineData("I'm Alice", "User's name is Alice", "identity", "identity.name")]
    [InlineData("Hi, I'm Alice!", "User's name is Alice", "identity", "identity.name")]
    [InlineData("I am 34 years old", "User is 34 years old", "identity", "identity.age")]
    [InlineData("I'm interested in quantum physics", "User is interested in quantum physics", "interest", null)]
    [InlineData("I'm really into jazz piano", "User is interested in jazz piano", "interest", null)]
    [InlineData("I love hiking", "User likes hiking", "interest", null)]
    [InlineData("I don't like spiders", "User dislikes spiders", "preference", null)]
    [InlineData("I hate loud music", "User dislikes loud music", "preference", null)]
    [InlineData("I prefer short answers", "User prefers short answers", "preference", null)]
    [InlineData("I live in Lisbon", "User lives in Lisbon", "location", "location.home")]
    [InlineData("I'm from Canada", "User is from Canada", "location", "location.origin")]
    [InlineData("I work at Contoso", "User works at Contoso", "work", "work.employer")]
    [InlineData("I work as a nurse", "User works as a nurse", "work", "work.role")]
    [InlineData("Remember that my sister's birthday is May 3", "User asked to remember: my sister's birthday is May 3", "note", null)]
    [InlineData("I'm feeling really tired", "User feels tired", "mood", "mood.current")]
    public void Statement_becomes_one_fact(string text, string content, string category, string? slot)
    {
        var fact = Assert.Single(MemoryExtractor.Extract(text));

        Assert.Equal((content, category, slot), (fact.Content, fact.Category, fact.Slot));
        Assert.InRange(fact.Importance, 0.01, 1);
    }

    [Fact]
    public void A_long_value_is_cut_between_characters_not_inside_one()
    {
        // The value is cut at 120 characters; here the 120th is the first half of an emoji.
        var value = new string('x', 119) + "\U0001F3B9 jazz";
        var fact = Assert.Single(MemoryExtractor.Extract("I love " + value));
        Assert.Equal("User likes " + new string('x', 119), fact.Content);
        Assert.Equal(-1, WellFormedText.FirstUnpairedSurrogate(fact.Content));
    }

    [Fact]
    public void Mood_is_less_important_than_name()
    {
        var mood = Assert.Single(MemoryExtractor.Extract("I'm so stressed"));
        var name = Assert.Single(MemoryExtractor.Extract("My name is Alice"));

        Assert.Equal(0.3, mood.Importance);
        Assert.Equal(0.9, name.Importance);
    }

    [Theory]
    [InlineData("What's my name?")]
    [InlineData("What's my name and interest?")]
    [InlineData("Do you remember that I live in Lisbon?")]
    [InlineData("Can you call me Bob")]
    [InlineData("Is my name Alice")]
    [InlineData("Hello!")]
    [InlineData("I'm fine")]
    [InlineData("I'm sorry")]
    public void Questions_and_small_talk_are_not_extracted(string text) => Assert.Empty(MemoryExtractor.Extract(text));

    [Fact]
    public void Several_statements_in_one_message_are_all_extracted()
    {
        var facts = MemoryExtractor.Extract("My name is Alice and I live in Lisbon. I work at Contoso");

        Assert.Equal(["User's name is Alice", "User lives in Lisbon", "User works at Contoso"], facts.Select(f => f.Content));
    }

    [Fact]
    public async Task Later_call_me_supersedes_the_name_and_keeps_history()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        await Alice.IntroduceAsync(session);

        await using (var conversation = await session.StartConversationAsync())
        {
            await conversation.SendMessageAsync("Actually, call me Bob");
            var reply = await conversation.SendMessageAsync("What's my name?");

            Assert.Contains("Bob", reply, StringComparison.Ordinal);
            Assert.DoesNotContain("Alice", reply, StringComparison.Ordinal);
        }

        var live = session.GetMemory().Entries;
        Assert.Contains(live, e => e.Content == "User's name is Bob");
        Assert.DoesNotContain(live, e => e.Content.Contains("Alice", StringComparison.Ordinal));
        var reloaded = await voxon.NewClient().Storage.LoadAsync(session.SessionId);
        var bob = reloaded!.Memory.Entries.Single(e => e.Content == "User's name is Bob");
        var alice = reloaded.Memory.Entries.Single(e => e.Content == "User's name is Alice");
        Assert.Equal(bob.Id, alice.SupersededBy);
        Assert.Null(bob.SupersededBy);
    }

    [Fact]
    public async Task Saying_the_same_thing_twice_stores_it_once()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        await Alice.SayAllAsync(conversation, "I love hiking", "My name is Alice", "I love hiking", "my name is Alice");

        Assert.Equal(["User likes hiking", "User's name is Alice"], session.GetMemory().Entries.Select(e => e.Content));
    }

    [Fact]
    public async Task Explicit_memory_added_twice_is_stored_once()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();

        var first = await session.AddMemoryAsync("User prefers formal language", "preference", 0.6);
        var second = await session.AddMemoryAsync("User prefers formal language", "preference", 0.9);

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(0.9, Assert.Single(session.GetMemory().Entries).Importance);
    }

    [Fact]
    public async Task Extracted_memory_is_indexed_with_the_reply_it_answers_and_found_by_it()
    {
        var model = new RecordingChatClient { FixedReply = "Nice! Which scooter colour did you go for in the end?" };
        await using var voxon = new TestVoxon(model);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        await conversation.SendMessageAsync("I prefer tea in the morning.");
        await conversation.SendMessageAsync("I prefer the red one, it was on sale.");

        var first = session.GetMemory().Entries.Single(e => e.Content == "User prefers tea in the morning");
        var answer = session.GetMemory().Entries.Single(e => e.Content.StartsWith("User prefers the red one", StringComparison.Ordinal));
        Assert.Null(first.Context);
        Assert.Equal("Nice! Which scooter colour did you go for in the end?", answer.Context);
        Assert.Equal(answer.Id, (await session.SearchMemoryAsync("What colour is the user's scooter?", topK: 1))[0].Entry.Id);
    }

    [Fact]
    public async Task Reply_context_of_an_extracted_memory_keeps_the_end_of_a_long_reply_and_is_redacted()
    {
        var reply = string.Concat(Enumerable.Repeat("Here is a long explanation of many things. ", 20)) + "Write to me at bob@example.com. Which city do you live in now?";
        var model = new RecordingChatClient { FixedReply = reply };
        await using var voxon = new TestVoxon(model);
        var session = await voxon.CreateSessionAsync(config: new SessionConfig { RedactPii = true });
        var conversation = await session.StartConversationAsync();

        await conversation.SendMessageAsync("Hello there.");
        await conversation.SendMessageAsync("I live in Lisbon.");

        var context = session.GetMemory().Entries.Single(e => e.Content == "User lives in Lisbon").Context!;
        Assert.EndsWith("Which city do you live in now?", context, StringComparison.Ordinal);
        Assert.InRange(context.Length, 200, 300);
        Assert.Contains(context.Split(' ')[0], reply.Split(' '));
        Assert.DoesNotContain("bob@example.com", context, StringComparison.Ordinal);
    }
}
