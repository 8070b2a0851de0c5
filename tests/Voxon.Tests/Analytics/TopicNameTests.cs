using Voxon.Tests.Memory;

namespace Voxon.Tests.Analytics;

public sealed class TopicNameTests
{
    [Fact]
    public async Task The_users_own_name_is_not_a_topic()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My name is Alice Walker");
        await conversation.SendMessageAsync("I'm interested in quantum physics");

        var topics = session.GetAnalytics().Topics;

        Assert.Contains("quantum physics", topics);
        Assert.DoesNotContain(topics, t => t.Contains("alice", StringComparison.Ordinal) || t.Contains("walker", StringComparison.Ordinal));
    }
}
