using Microsoft.Extensions.AI;
using Voxon.Engine;
using Voxon.Tests.Memory;

namespace Voxon.Tests.Conversations;

/// <summary>ARCHITECTURE.md "Conversations and branching".</summary>
public sealed class BranchingTests
{
    [Fact]
    public async Task A_branch_starts_with_its_parents_context()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var main = await session.StartConversationAsync("main");
        await main.SendMessageAsync("Let's talk about physics");
        var branch = await session.StartConversationAsync("physics_deep_dive", parentId: "main");
        await branch.SendMessageAsync("Tell me about entanglement");

        var history = host.Chat.Requests[^1].Where(m => m.Role != ChatRole.System).Select(m => m.Text).ToList();
        Assert.Equal("Let's talk about physics", history[0]);
        Assert.Equal("Tell me about entanglement", history[^1]);
        Assert.Equal("main", branch.ParentId);
        Assert.Equal(2, branch.Transcript.Count);
    }

    [Fact]
    public async Task A_turn_copies_only_the_latest_turns_the_model_sees_across_branch_points()
    {
        // main: 60 turns; side branches from it at 60 (main goes on after); leaf branches from side at 10. A turn's
        // history is the model's window of the latest turns along that chain, and nothing more is copied.
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var main = await session.StartConversationAsync("main");
        for (var i = 0; i < 30; i++)
        {
            await main.SendMessageAsync($"main {i}");
        }

        var side = await session.StartConversationAsync("side", parentId: "main");
        await main.SendMessageAsync("main after the branch");
        for (var i = 0; i < 5; i++)
        {
            await side.SendMessageAsync($"side {i}");
        }

        var leaf = await session.StartConversationAsync("leaf", parentId: "side");
        await side.SendMessageAsync("side after the branch");
        for (var i = 0; i < 8; i++)
        {
            await leaf.SendMessageAsync($"leaf {i}");
        }

        var chain = main.Transcript.Take(60).Concat(side.Transcript.Take(10)).Concat(leaf.Transcript).Select(t => t.Content).ToList();
        var window = chain.TakeLast(VoxEngine.MaxHistoryMessages).ToList();
        Assert.Equal(window, ((Voxon.Turns.ITurnHost)session).HistoryOf(leaf.State).Select(t => t.Content));
        Assert.Equal("main 23", window[0]); // 40 = main's last 14 (from its 47th turn), side's first 10 and leaf's 16

        // The model got that window (but for the turn in progress) and the words said.
        await leaf.SendMessageAsync("leaf last");
        var sent = host.Chat.Requests[^1].Where(m => m.Role != ChatRole.System).Select(m => m.Text).ToList();
        Assert.Equal([.. window, "leaf last"], sent);

        // A conversation longer than the window on its own carries only its own latest turns.
        Assert.Equal(main.Transcript.TakeLast(VoxEngine.MaxHistoryMessages).Select(t => t.Content), ((Voxon.Turns.ITurnHost)session).HistoryOf(main.State).Select(t => t.Content));
    }

    [Fact]
    public async Task Branch_memories_are_seen_in_the_branch_labelled_in_the_parent_and_hidden_from_siblings()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var main = await session.StartConversationAsync("main");
        await main.SendMessageAsync("I'm interested in astronomy");
        var branch = await session.StartConversationAsync("physics_deep_dive", parentId: "main");
        await branch.SendMessageAsync("I'm interested in quantum entanglement");
        var sibling = await session.StartConversationAsync("cooking", parentId: "main");

        var branchEntry = Assert.Single(session.GetMemory().Entries, e => e.Content.Contains("entanglement", StringComparison.Ordinal));
        Assert.Equal("physics_deep_dive", branchEntry.Scope);

        await branch.SendMessageAsync("What am I interested in?");
        Assert.Contains("- User is interested in quantum entanglement", host.Chat.LastSystemText, StringComparison.Ordinal);

        await sibling.SendMessageAsync("What am I interested in?");
        Assert.DoesNotContain("entanglement", host.Chat.LastSystemText, StringComparison.Ordinal);
        Assert.Contains("astronomy", host.Chat.LastSystemText, StringComparison.Ordinal);

        var resumedMain = await session.ResumeConversationAsync("main");
        await resumedMain.SendMessageAsync("What am I interested in?");
        var context = host.Chat.LastSystemText;
        Assert.Contains("[from branch physics_deep_dive] User is interested in quantum entanglement", context, StringComparison.Ordinal);
        Assert.True(
            context.IndexOf("astronomy", StringComparison.Ordinal) < context.IndexOf("entanglement", StringComparison.Ordinal),
            "the parent's own memory should rank above the branch's");
    }

    [Fact]
    public async Task Branch_scopes_and_tree_survive_save_and_load()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var main = await session.StartConversationAsync("main");
        await main.SendMessageAsync("Hello");
        var branch = await session.StartConversationAsync("side", parentId: "main");
        await branch.SendMessageAsync("I'm interested in origami");
        await session.SaveAsync();

        var loaded = await host.NewClient().LoadSessionAsync(session.SessionId);
        Assert.Equal("main", Assert.Single(loaded.Conversations, c => c.ConversationId == "side").ParentId);
        Assert.Equal("side", Assert.Single(loaded.GetMemory().Entries).Scope);

        var sibling = await loaded.StartConversationAsync("other", parentId: "main");
        await sibling.SendMessageAsync("What am I interested in?");
        Assert.DoesNotContain("origami", host.Chat.LastSystemText, StringComparison.Ordinal);

        var resumed = await loaded.ResumeConversationAsync("side");
        await resumed.SendMessageAsync("What am I interested in?");
        Assert.Contains("origami", host.Chat.LastSystemText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Branching_from_an_unknown_parent_or_reusing_an_id_fails_clearly()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        await session.StartConversationAsync("main");
        var unknown = await Assert.ThrowsAsync<Voxon.Sessions.SessionStateException>(() => session.StartConversationAsync("b", parentId: "nope"));
        Assert.Contains("nope", unknown.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<Voxon.Sessions.SessionStateException>(() => session.StartConversationAsync("main"));
    }
}
