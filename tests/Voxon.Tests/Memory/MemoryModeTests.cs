using System.Text.Json;
using Voxon.Sessions;

namespace Voxon.Tests.Memory;

/// <summary>ARCHITECTURE.md "Memory": ephemeral, persistent and hybrid, each across save, load and resume.</summary>
public sealed class MemoryModeTests
{
    private static int StoredEntries(MemoryTestHost host, string sessionId)
    {
        using var json = JsonDocument.Parse(host.StoredJson(sessionId));
        return json.RootElement.GetProperty("memory").GetProperty("entries").GetArrayLength();
    }

    [Fact]
    public async Task Ephemeral_memories_live_only_in_their_conversation_and_are_never_written()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync(new SessionConfig { MemoryMode = MemoryMode.Ephemeral });
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My name is Alice");
        Assert.Contains("Alice", await conversation.SendMessageAsync("What's my name?"), StringComparison.Ordinal);
        await session.SaveAsync();
        Assert.Equal(0, StoredEntries(host, session.SessionId));

        await conversation.EndAsync();
        Assert.Empty(session.GetMemory().Entries);

        var loaded = await host.NewClient().LoadSessionAsync(session.SessionId);
        var resumed = await loaded.ResumeConversationAsync();
        Assert.Empty(loaded.GetMemory().Entries);
        Assert.DoesNotContain("Alice", await resumed.SendMessageAsync("What's my name?"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Persistent_mode_keeps_even_minor_memories_across_save_load_and_resume()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync(new SessionConfig { MemoryMode = MemoryMode.Persistent });
        await using (var conversation = await session.StartConversationAsync())
        {
            await conversation.SendMessageAsync("My name is Alice");
            await conversation.SendMessageAsync("I'm feeling tired");
        }

        Assert.Equal(2, StoredEntries(host, session.SessionId));
        var loaded = await host.NewClient().LoadSessionAsync(session.SessionId);
        var resumed = await loaded.ResumeConversationAsync();

        Assert.Contains(loaded.GetMemory().Entries, e => e.Content == "User feels tired");
        Assert.Contains("Alice", await resumed.SendMessageAsync("What's my name?"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hybrid_mode_persists_explicit_and_important_memories_and_drops_minor_ones_with_their_conversation()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync(new SessionConfig { MemoryMode = MemoryMode.Hybrid });
        session.AddMemory("User has a cat called Miso", "pets", 0.1);
        await using (var conversation = await session.StartConversationAsync())
        {
            await conversation.SendMessageAsync("My name is Alice");
            await conversation.SendMessageAsync("I'm feeling tired");
            Assert.Contains(session.GetMemory().Entries, e => e.Content == "User feels tired");
        }

        Assert.DoesNotContain(session.GetMemory().Entries, e => e.Content == "User feels tired");
        Assert.Equal(2, StoredEntries(host, session.SessionId));

        var loaded = await host.NewClient().LoadSessionAsync(session.SessionId);
        var contents = loaded.GetMemory().Entries.Select(e => e.Content).ToList();
        Assert.Contains("User's name is Alice", contents);
        Assert.Contains("User has a cat called Miso", contents);
        Assert.DoesNotContain("User feels tired", contents);

        var resumed = await loaded.ResumeConversationAsync();
        Assert.Contains("Alice", await resumed.SendMessageAsync("What's my name?"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hybrid_threshold_is_configurable()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync(new SessionConfig { HybridPersistThreshold = 0.2 });
        await using (var conversation = await session.StartConversationAsync())
        {
            await conversation.SendMessageAsync("I'm feeling tired");
        }

        Assert.Contains(session.GetMemory().Entries, e => e.Content == "User feels tired");
    }
}
