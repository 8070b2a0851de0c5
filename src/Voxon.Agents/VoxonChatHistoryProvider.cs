using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Voxon.Conversations;

namespace Voxon.Agents;

/// <summary>
/// The agent's chat history read from the Voxon transcript of the agent session's conversation, so the history lives
/// in Voxon's storage (and survives a restart) while the agent session carries only ids. Turns are written by
/// <see cref="VoxonContextProvider"/>, which records each exchange once through the turn pipeline; this provider
/// stores nothing itself.
/// </summary>
internal sealed class VoxonChatHistoryProvider(VoxonAgentSessions sessions, VoxonContextProvider recorder) : ChatHistoryProvider
{
    /// <summary>No state of its own: it reads the ids that <see cref="VoxonContextProvider"/> keeps under its key.</summary>
    public override IReadOnlyList<string> StateKeys => [];

    protected override async ValueTask<IEnumerable<ChatMessage>> ProvideChatHistoryAsync(InvokingContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Agent is ChatClientAgent agent && agent.AIContextProviders?.Contains(recorder) != true)
        {
            // Without its context provider nothing would record the turns, and the history would silently stay empty.
            throw new InvalidOperationException(
                "The Voxon chat history provider needs the VoxonContextProvider that created it in the agent's AIContextProviders: it records the turns. Use options.UseVoxon(voxon, userId) to wire both.");
        }

        var conversation = await sessions.ConversationAsync(context.Session, cancellationToken);
        return [.. conversation.Transcript.Select(ToMessage)];
    }

    // The exchange is recorded by VoxonContextProvider (with memory extraction and analytics); writing it here too would
    // record every turn twice.
    protected override ValueTask StoreChatHistoryAsync(InvokedContext context, CancellationToken cancellationToken = default) => default;

    private static ChatMessage ToMessage(ConversationTurn turn) =>
        new(turn.Role == TurnRole.User ? ChatRole.User : ChatRole.Assistant, turn.Content) { CreatedAt = turn.Timestamp };
}
