using Voxon.Events;
using Voxon.Memory;
using Voxon.Sessions;

namespace Voxon.Tests.Memory;

public sealed class EvictionTests
{
    [Fact]
    public async Task Adding_past_max_memory_size_evicts_the_least_valuable_entries_and_raises_memory_evicted()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync(new SessionConfig { MaxMemorySize = 25 });
        var evicted = new List<MemoryEntry>();
        session.Events.On(SessionEventNames.MemoryEvicted, e => evicted.AddRange(e.DataAs<List<MemoryEntry>>()!));

        session.AddMemory("User once mentioned liking green tea", "preference", 0.2);
        host.Time.Advance(TimeSpan.FromDays(60));
        session.AddMemory("User's daughter is called Emma", "family", 0.9);
        session.AddMemory("User is allergic to penicillin", "health", 0.95);
        session.AddMemory("User works as a nurse at the city hospital", "work", 0.7);

        var memory = session.GetMemory();
        Assert.True(memory.TokenCount <= 25, $"token count {memory.TokenCount} exceeds the budget");
        Assert.DoesNotContain(memory.Entries, e => e.Content.Contains("green tea", StringComparison.Ordinal));
        Assert.Contains(memory.Entries, e => e.Content.Contains("penicillin", StringComparison.Ordinal));
        Assert.Contains(evicted, e => e.Content.Contains("green tea", StringComparison.Ordinal));
    }

    [Fact]
    public void Older_entries_of_equal_importance_are_evicted_first()
    {
        var now = DateTimeOffset.UnixEpoch;
        MemoryEntry Entry(string id, double importance, int ageDays) => new()
        {
            Id = id,
            Content = id,
            Category = "c",
            Importance = importance,
            CreatedAt = now.AddDays(-ageDays),
            UpdatedAt = now.AddDays(-ageDays),
        };

        Assert.True(MemoryStore.Value(Entry("old", 0.5, 90), now) < MemoryStore.Value(Entry("new", 0.5, 1), now));
        Assert.True(MemoryStore.Value(Entry("minor", 0.1, 1), now) < MemoryStore.Value(Entry("major", 0.9, 1), now));
    }

    [Fact]
    public async Task Importance_one_entries_are_never_evicted_and_an_over_budget_event_is_raised()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync(new SessionConfig { MaxMemorySize = 12 });
        var overBudget = 0;
        session.Events.On(SessionEventNames.MemoryOverBudget, _ => overBudget++);

        session.AddMemory("User is allergic to penicillin and latex", "health", 1.0);
        session.AddMemory("User must never be called before nine", "preference", 1.0);

        var memory = session.GetMemory();
        Assert.Equal(2, memory.Entries.Count);
        Assert.True(memory.TokenCount > 12);
        Assert.True(overBudget >= 1);
    }
}
