using System.Text.Json;
using Voxon.Tests.Analytics;

namespace Voxon.Tests.Diagnostics;

public sealed class SessionDebugTests
{
    [Fact]
    public async Task Debug_mode_records_events_state_transitions_memory_snapshots_and_errors()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        Assert.False(session.IsDebugEnabled);
        Assert.Empty(session.GetDebugInfo().Events);

        session.EnableDebug();
        session.Events.On("message.sent", _ => throw new InvalidOperationException("bug"));
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My name is Alice.");
        await conversation.EndAsync();
        var info = session.GetDebugInfo();

        Assert.True(info.Enabled);
        Assert.Contains(info.Events, e => e.Type == "memory.added");
        Assert.Contains(info.Events, e => e.Type == "message.received" && e.Summary == "user message, 17 chars");
        Assert.Equal(
            ["debug: off -> on", $"conversation {conversation.ConversationId}: none -> active", $"conversation {conversation.ConversationId}: active -> ended"],
            info.StateTransitions.Select(t => t.ToString()));
        Assert.Contains(info.MemorySnapshots, s => s.Trigger == "memory.added" && s.EntryCount == 1 && s.Entries[0].Content.Contains("Alice"));
        Assert.Equal(1, info.ErrorCount);
    }

    [Fact]
    public async Task Debug_export_is_json_lines_without_any_sensitive_value()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        session.EnableDebug();
        await session.AddMemoryAsync("Bank password is quokka-sunrise", "security", sensitive: true);
        await session.AddMemoryAsync("Work email is alice@example.com", "contact");
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My card number is 4111 1111 1111 1111 and my password is quokka-sunrise.");

        var logs = session.ExportDebugLogs();

        // Values that random hex ids and timestamps cannot contain by chance.
        Assert.DoesNotContain("quokka", logs);
        Assert.DoesNotContain("alice@example.com", logs);
        Assert.DoesNotContain("4111 1111", logs);
        Assert.Contains("[REDACTED]", logs);
        var lines = logs.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var kinds = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("kind").GetString()).ToList();
        Assert.Equal("debug_info", kinds[0]);
        Assert.Contains("event", kinds);
        Assert.Contains("state_transition", kinds);
        Assert.Contains("memory_snapshot", kinds);
    }

    [Fact]
    public async Task Debug_histories_are_bounded()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        session.EnableDebug(capacity: 10);

        for (var i = 0; i < 30; i++)
        {
            session.AddMemory($"Fact number {i} about the garden.");
        }

        var info = session.GetDebugInfo();
        Assert.Equal(10, info.Events.Count);
        Assert.Single(info.MemorySnapshots);
        Assert.Equal("memory.added", info.Events[^1].Type);
        Assert.True(info.DroppedCount > 20);
        Assert.Equal(30, info.MemorySnapshots[0].EntryCount);
        Assert.Equal(20, info.MemorySnapshots[0].Entries.Count);
    }

    [Fact]
    public async Task Disabling_debug_mode_discards_the_record()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        session.EnableDebug();
        await session.StartConversationAsync();

        session.DisableDebug();

        Assert.False(session.IsDebugEnabled);
        Assert.Empty(session.GetDebugInfo().Events);
    }
}
