using Voxon.Analytics;
using Voxon.Tests.Memory;

namespace Voxon.Tests.Analytics;

public sealed class ModelInsightTests
{
    [Fact]
    public async Task A_configured_model_names_the_topics_and_estimates_satisfaction()
    {
        await using var host = new MemoryTestHost(new FixedChatClient("{\"topics\": [\"Quantum Computing\", \"qubit error correction\"], \"satisfaction\": 4.5}"));
        var session = await host.NewSessionAsync();
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("How do qubits stay coherent?");

        var analytics = await session.GetAnalyticsAsync();

        Assert.Equal(["quantum computing", "qubit error correction"], analytics.Topics);
        Assert.Equal(4.5, analytics.SatisfactionScore);
        Assert.Equal("model", analytics.SatisfactionSource);
        Assert.Contains(host.Chat.Requests[^1], m => m.Text.Contains("How do qubits stay coherent?", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Explicit_satisfaction_metrics_win_over_the_model()
    {
        await using var host = new MemoryTestHost(new FixedChatClient("{\"topics\": [\"billing\"], \"satisfaction\": 1}"));
        var session = await host.NewSessionAsync();
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My invoice is wrong");
        session.TrackMetric("user_satisfaction", 4);

        var analytics = await session.GetAnalyticsAsync();

        Assert.Equal(4, analytics.SatisfactionScore);
        Assert.Equal("explicit", analytics.SatisfactionSource);
        Assert.Equal(["billing"], analytics.Topics);
    }

    [Theory]
    [InlineData("no json")]
    [InlineData("{\"topics\": [\"a\"], \"satisfaction\": 9}")]
    [InlineData("{\"topics\": \"a\", \"satisfaction\": 3}")]
    [InlineData("{\"topics\": [\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"], \"satisfaction\": 3}")]
    public async Task Unusable_model_answers_keep_the_offline_estimate(string answer)
    {
        Assert.Null(ChatInsightAnalyzer.Parse(answer));
        await using var host = new MemoryTestHost(new FixedChatClient(answer));
        var session = await host.NewSessionAsync();
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("Tell me about quantum entanglement and quantum entanglement experiments");

        var offline = session.GetAnalytics();
        var analytics = await session.GetAnalyticsAsync();

        Assert.Equal(offline.Topics, analytics.Topics);
        Assert.NotEqual("model", analytics.SatisfactionSource);
    }

    [Fact]
    public async Task The_offline_engine_makes_no_analysis_call()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("I love quantum physics");
        var calls = host.Chat.Requests.Count;

        await session.GetAnalyticsAsync();

        Assert.Equal(calls, host.Chat.Requests.Count);
    }
}
