using Voxon.Events;
using Voxon.Memory;

namespace Voxon.Tests.Memory;

public sealed class SupersessionTests
{
    [Fact]
    public async Task A_newer_name_supersedes_the_old_one_which_is_kept_as_history_but_not_searched()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        MemorySuperseded? superseded = null;
        session.Events.On(SessionEventNames.MemorySuperseded, e => superseded = e.DataAs<MemorySuperseded>());
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My name is Alice");
        await conversation.SendMessageAsync("Actually, call me Bob");

        Assert.Contains("Bob", await conversation.SendMessageAsync("What's my name?"), StringComparison.Ordinal);
        var live = session.GetMemory().Entries;
        Assert.Equal("User's name is Bob", Assert.Single(live, e => e.Slot == "identity.name").Content);
        Assert.DoesNotContain(session.SearchMemory("Alice", topK: 10), r => r.Entry.Content.Contains("Alice", StringComparison.Ordinal));
        Assert.Equal("identity.name", superseded!.Slot);

        await session.SaveAsync();
        using (var stored = System.Text.Json.JsonDocument.Parse(host.StoredJson(session.SessionId)))
        {
            var history = stored.RootElement.GetProperty("memory").GetProperty("entries").EnumerateArray()
                .Single(e => e.GetProperty("content").GetString() == "User's name is Alice");
            Assert.True(history.TryGetProperty("superseded_by", out _));
        }

        var loaded = await host.NewClient().LoadSessionAsync(session.SessionId);
        Assert.DoesNotContain(loaded.GetMemory().Entries, e => e.Content.Contains("Alice", StringComparison.Ordinal));
        Assert.Contains("Bob", await (await loaded.StartConversationAsync()).SendMessageAsync("What's my name?"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stating_the_same_thing_twice_stores_it_once()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("I'm interested in quantum physics");
        await conversation.SendMessageAsync("I'm interested in Quantum Physics");
        session.AddMemory("User is interested in quantum physics", "interest", 0.9);

        var entry = Assert.Single(session.GetMemory().Entries);
        Assert.Equal(0.9, entry.Importance);
    }

    [Fact]
    public async Task After_a_reload_a_fact_restated_in_other_case_refreshes_the_stored_one_and_a_branch_keeps_its_own()
    {
        await using var host = new MemoryTestHost();
        string id;
        await using (var session = await host.NewSessionAsync())
        {
            id = session.SessionId;
            var first = await session.StartConversationAsync("first");
            await first.SendMessageAsync("I'm interested in quantum physics");
            await session.SaveAsync();
        }

        await using var client = host.NewClient();
        await using var loaded = await client.LoadSessionAsync(id);
        var later = await loaded.StartConversationAsync("later");
        await later.SendMessageAsync("I'm interested in QUANTUM PHYSICS");
        var branch = await loaded.StartConversationAsync("what_if", parentId: "later");
        await branch.SendMessageAsync("I'm interested in quantum physics");

        var entries = loaded.GetMemory().Entries;
        Assert.Single(entries, e => e.Scope is null);
        Assert.Single(entries, e => e.Scope == "what_if");
        Assert.Equal(2, entries.Count);
    }

    [Fact]
    public async Task Slots_are_independent_and_scoped()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var main = await session.StartConversationAsync("main");
        await main.SendMessageAsync("I live in Lisbon");
        await main.SendMessageAsync("I work at Contoso");
        var branch = await session.StartConversationAsync("what_if", parentId: "main");
        await branch.SendMessageAsync("I live in Tokyo");

        var homes = session.GetMemory().Entries.Where(e => e.Slot == "location.home").Select(e => e.Content).Order().ToList();
        Assert.Equal(["User lives in Lisbon", "User lives in Tokyo"], homes);
        Assert.Single(session.GetMemory().Entries, e => e.Slot == "work.employer");
    }
}
