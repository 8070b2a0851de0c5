using System.Text.Json;
using Voxon.Sessions;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Memory;

public class MemoryModeTests
{
    private static readonly string[] NameAndMood = ["My name is Alice", "I'm feeling tired"];

    [Fact]
    public async Task Ephemeral_memory_lives_in_its_conversation_and_is_never_written()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync(new SessionConfig { MemoryMode = MemoryMode.Ephemeral });
        var conversation = await session.StartConversationAsync();
        await Alice.SayAllAsync(conversation, NameAndMood);
        await session.AddMemoryAsync("User prefers formal language", "preference", 0.9);

        Assert.Contains("Alice", await conversation.SendMessageAsync("What's my name?"), StringComparison.Ordinal);
        await session.SaveAsync();
        var file = await File.ReadAllTextAsync(voxon.PathOf(session.SessionId));
        using var json = JsonDocument.Parse(file);
        var memory = json.RootElement.GetProperty("memory");
        Assert.Empty(memory.GetProperty("entries").EnumerateArray());
        Assert.Equal(0, memory.GetProperty("token_count").GetInt32());
        Assert.DoesNotContain("User's name is Alice", file, StringComparison.Ordinal);
        Assert.DoesNotContain("formal language", file, StringComparison.Ordinal);

        await conversation.EndAsync();
        Assert.DoesNotContain(session.GetMemory().Entries, e => e.Content.Contains("Alice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Hybrid_mood_ends_with_its_conversation_while_the_name_persists()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync(new SessionConfig { MemoryMode = MemoryMode.Hybrid });
        await using (var conversation = await session.StartConversationAsync())
        {
            await Alice.SayAllAsync(conversation, NameAndMood);
            Assert.Contains(session.GetMemory().Entries, e => e.Content == "User feels tired");
        }

        Assert.Equal(["User's name is Alice"], session.GetMemory().Entries.Select(e => e.Content));
        var stored = await voxon.Storage.LoadAsync(session.SessionId);
        Assert.Equal(["User's name is Alice"], stored!.Memory.Entries.Select(e => e.Content));
    }

    [Fact]
    public async Task Hybrid_mood_is_not_saved_even_while_its_conversation_is_open()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();
        await Alice.SayAllAsync(conversation, NameAndMood);

        await session.SaveAsync();

        var stored = await voxon.Storage.LoadAsync(session.SessionId);
        Assert.Equal(["User's name is Alice"], stored!.Memory.Entries.Select(e => e.Content));
    }

    [Fact]
    public async Task Persistent_keeps_name_and_mood_across_conversations_and_loads()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync(new SessionConfig { MemoryMode = MemoryMode.Persistent });
        await using (var conversation = await session.StartConversationAsync())
        {
            await Alice.SayAllAsync(conversation, NameAndMood);
        }

        var loaded = await voxon.NewClient().LoadSessionAsync(session.SessionId);

        string[] both = ["User's name is Alice", "User feels tired"];
        Assert.Equal(both, session.GetMemory().Entries.Select(e => e.Content));
        Assert.Equal(both, loaded.GetMemory().Entries.Select(e => e.Content));
    }
}
