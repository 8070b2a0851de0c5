using Voxon.Conversations;
using Voxon.Sessions;

namespace Voxon.Tests.TestSupport;

/// <summary>The spec's continuity example.</summary>
public static class Alice
{
    public static readonly string[] Introduction = ["My name is Alice", "I'm interested in quantum physics"];

    public const string Question = "What's my name and interest?";

    /// <summary>Runs conversation 1 (name and interest) and ends it with <c>await using</c>, which saves.</summary>
    public static async Task IntroduceAsync(Session session)
    {
        await using var conversation = await session.StartConversationAsync();
        await SayAllAsync(conversation, Introduction);
    }

    public static async Task<IReadOnlyList<string>> SayAllAsync(Conversation conversation, params string[] lines)
    {
        var replies = new List<string>();
        foreach (var line in lines)
        {
            replies.Add(await conversation.SendMessageAsync(line));
        }

        return replies;
    }

    public static void AssertRemembered(string reply)
    {
        Assert.Contains("Alice", reply, StringComparison.Ordinal);
        Assert.Contains("quantum physics", reply, StringComparison.Ordinal);
    }
}
