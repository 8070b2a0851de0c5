using Voxon.Conversations;
using Voxon.Events;
using Voxon.Memory;
using Voxon.Tests.Analytics;

namespace Voxon.Tests.Events;

public sealed class SessionEventsTests
{
    [Fact]
    public async Task A_throwing_handler_does_not_break_a_turn_and_is_counted()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        var later = new List<string>();
        session.Events.On(SessionEventNames.MessageReceived, _ => throw new InvalidOperationException("handler bug"));
        session.Events.On("message.*", e => later.Add(e.Type));
        var conversation = await session.StartConversationAsync();

        var reply = await conversation.SendMessageAsync("Hello there.");

        Assert.False(string.IsNullOrWhiteSpace(reply));
        Assert.Equal(2, conversation.Transcript.Count);
        Assert.Equal(["message.received", "message.sent"], later); // the handlers after it still ran
        Assert.Equal(1, session.Events.HandlerErrorCount);
        Assert.Equal(1, session.GetDebugInfo().ErrorCount);
    }

    [Fact]
    public async Task A_failing_async_handler_is_observed_and_counted()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        var release = new TaskCompletionSource();
        session.Events.On(SessionEventNames.ConversationStarted, async _ =>
        {
            await release.Task;
            throw new InvalidOperationException("async handler bug");
        });

        await session.StartConversationAsync(); // returns while the handler is still waiting
        Assert.Equal(0, session.Events.HandlerErrorCount);
        release.SetResult();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (session.Events.HandlerErrorCount == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal(1, session.Events.HandlerErrorCount);
    }

    [Fact]
    public async Task Exact_prefix_and_wildcard_subscriptions_see_the_right_events()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        List<string> all = [], memory = [], exact = [];
        session.Events.On("*", e => all.Add(e.Type));
        session.Events.On("memory.*", e => memory.Add(e.Type));
        session.Events.On("conversation.started", e => exact.Add(e.Type));

        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My name is Alice.");
        await conversation.EndAsync();

        Assert.Equal(["conversation.started"], exact);
        Assert.Equal(["memory.added"], memory);
        Assert.Equal(
            ["conversation.started", "analytics.milestone", "message.received", "message.sent", "memory.added", "conversation.ended"],
            all);
    }

    [Fact]
    public async Task Disposing_a_subscription_unsubscribes_it()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        var seen = 0;
        var subscription = session.Events.On("conversation.*", _ => seen++);
        await session.StartConversationAsync();

        subscription.Dispose();
        subscription.Dispose(); // twice is harmless
        await session.StartConversationAsync();

        Assert.Equal(1, seen);
    }

    [Theory]
    [InlineData("")]
    [InlineData("*.added")]
    [InlineData("memory*")]
    [InlineData("memory.*.x")]
    public async Task Malformed_patterns_are_rejected(string pattern)
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");

        Assert.ThrowsAny<ArgumentException>(() => session.Events.On(pattern, _ => { }));
    }

    [Fact]
    public async Task Event_data_is_typed_and_sensitive_memories_are_redacted()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        var memories = new List<MemoryEntry>();
        ConversationInfo? started = null;
        ConversationTurn? interrupted = null;
        session.Events.On(SessionEventNames.MemoryAdded, e => memories.Add(e.DataAs<MemoryEntry>()!));
        session.Events.On(SessionEventNames.ConversationStarted, e => started = e.DataAs<ConversationInfo>());
        session.Events.On(SessionEventNames.ConversationInterrupted, e => interrupted = e.DataAs<ConversationTurn>());

        await session.AddMemoryAsync("Bank PIN is 4321", "security", sensitive: true);
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("Tell me a long story.");
        conversation.ReportInterruption();

        Assert.Equal("[REDACTED]", Assert.Single(memories).Content);
        Assert.Equal(conversation.ConversationId, started!.ConversationId);
        Assert.True(interrupted!.Interrupted);
        Assert.Equal(TurnRole.Assistant, interrupted.Role);
    }
}
