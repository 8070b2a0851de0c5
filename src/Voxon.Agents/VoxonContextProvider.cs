using System.Runtime.CompilerServices;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Voxon.Conversations;
using Voxon.Memory;
using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Turns;

namespace Voxon.Agents;

/// <summary>
/// Voxon memory for Microsoft Agent Framework agents. Before each run it weaves the user's memories and learned style
/// guidance for the user's words into the run's instructions; after it, it records the exchange as a turn of the
/// agent session's Voxon conversation, extracts memories from it and saves the session: the same turn pipeline as
/// <c>Conversation.SendMessageAsync</c>, with the model call made by the agent.
/// </summary>
/// <remarks>
/// <para>Every <see cref="AgentSession"/> is one Voxon conversation in the user's Voxon session, so memories carry from
/// one agent session to the next. The Voxon session and conversation ids live in <see cref="AgentSession.StateBag"/>
/// under <see cref="VoxonAgentOptions.StateKey"/>: <c>SerializeSessionAsync</c> and <c>DeserializeSessionAsync</c>
/// carry them, and the conversation goes on where it was, also in another process.</para>
/// <para>Pair it with <see cref="CreateChatHistoryProvider"/> (or call
/// <see cref="VoxonAgentOptionsExtensions.UseVoxon(ChatClientAgentOptions, VoxonClient, string, Action{VoxonAgentOptions}?)"/>)
/// so the agent's history is the Voxon transcript instead of a copy in the agent session.</para>
/// <para>A storage failure surfaces from the agent run as <see cref="VoxonStorageException"/>; the exchange stays
/// recorded in the loaded session and is written by the next save that succeeds. Thread-safe; one provider serves
/// every agent session of its user.</para>
/// </remarks>
public sealed class VoxonContextProvider : AIContextProvider
{
    private readonly VoxonAgentSessions _sessions;
    private readonly TimeProvider _time;
    private readonly ConditionalWeakTable<AgentSession, PendingTurn> _pending = [];
    private IReadOnlyList<string>? _stateKeys;

    /// <summary>Creates the provider for <paramref name="userId"/>'s memory in <paramref name="voxon"/>.</summary>
    /// <param name="voxon">The Voxon client whose storage holds the sessions; the caller keeps ownership.</param>
    /// <param name="userId">The user the agent talks to.</param>
    /// <param name="options">Which Voxon session to use and how to create one; defaults when null.</param>
    /// <exception cref="ArgumentException">The user id breaks Voxon's id rules, or the state key is empty.</exception>
    public VoxonContextProvider(VoxonClient voxon, string userId, VoxonAgentOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(voxon);
        options ??= new VoxonAgentOptions();
        ArgumentException.ThrowIfNullOrWhiteSpace(options.StateKey, nameof(options));
        if (options.SessionId is not null)
        {
            SessionIds.Validate(options.SessionId);
        }

        _sessions = new VoxonAgentSessions(voxon, SessionIds.Validate(userId, "user id"), options);
        _time = voxon.Options.TimeProvider;
    }

    /// <inheritdoc />
    public override IReadOnlyList<string> StateKeys => _stateKeys ??= [_sessions.StateKey];

    /// <summary>A <see cref="ChatHistoryProvider"/> whose history is the Voxon transcript of the agent session's
    /// conversation, as stored by this provider: the agent session carries ids, not messages.</summary>
    public ChatHistoryProvider CreateChatHistoryProvider() => new VoxonChatHistoryProvider(_sessions, this);

    /// <summary>The Voxon conversation of <paramref name="agentSession"/> (started on first use), to read its
    /// transcript, analytics or the context woven for its last turn, or to reach its <see cref="Session"/>.</summary>
    public Task<Conversation> GetConversationAsync(AgentSession agentSession, CancellationToken cancellationToken = default) =>
        _sessions.ConversationAsync(agentSession, cancellationToken);

    /// <inheritdoc />
    protected override async ValueTask<AIContext> ProvideAIContextAsync(InvokingContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var conversation = await _sessions.ConversationAsync(context.Session, cancellationToken);
        var words = UserWords(context.AIContext.Messages);
        if (words is null)
        {
            _pending.Remove(context.Session!);
            return new AIContext();
        }

        var pending = await PrepareAsync(conversation, words, cancellationToken);
        _pending.AddOrUpdate(context.Session!, pending);
        return new AIContext { Instructions = pending.Input.Context.Text.Length == 0 ? null : pending.Input.Context.Text };
    }

    /// <inheritdoc />
    protected override async ValueTask InvokedCoreAsync(InvokedContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.InvokeException is not null && context.Session is not null)
        {
            _pending.TryGetValue(context.Session, out var pending);
            _pending.Remove(context.Session);
            if (context.InvokeException is OperationCanceledException && pending is not null)
            {
                // Cancelled, as SendMessageAsync is: the user's words were said all the same and are recorded; the
                // reply is not. Any other failure of the model records nothing.
                var conversation = await _sessions.ConversationAsync(context.Session, CancellationToken.None);
                await RecordAsync(conversation, pending, reply: null, CancellationToken.None);
            }
        }

        await base.InvokedCoreAsync(context, cancellationToken);
    }

    /// <inheritdoc />
    protected override async ValueTask StoreAIContextAsync(InvokedContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var conversation = await _sessions.ConversationAsync(context.Session, cancellationToken);
        _pending.TryGetValue(context.Session!, out var pending);
        _pending.Remove(context.Session!);
        if (pending is null && UserWords(context.RequestMessages) is { } words)
        {
            // The words reached the model without this provider's context (another provider instance wove it).
            pending = await PrepareAsync(conversation, words, cancellationToken);
        }

        var replyText = Text(context.ResponseMessages?.Where(m => m.Role == ChatRole.Assistant) ?? []);
        var reply = replyText is null
            ? null
            : new TurnReply { Generated = replyText, ResponseTimeMs = pending is null ? null : _time.GetElapsedTime(pending.Started).TotalMilliseconds };
        if (pending is null && reply is null)
        {
            return;
        }

        await RecordAsync(conversation, pending, reply, cancellationToken);
    }

    /// <summary>Records a run's turn in its conversation, through the turn pipeline, and saves the session.</summary>
    private static async Task RecordAsync(Conversation conversation, PendingTurn? pending, TurnReply? reply, CancellationToken cancellationToken)
    {
        await conversation.TurnGate.WaitAsync(cancellationToken);
        try
        {
            await conversation.Session.Turns.RecordAsync(conversation, pending?.Input, reply, pending?.Extraction, cancellationToken);
        }
        finally
        {
            conversation.TurnGate.Release();
        }

        await conversation.Session.SaveAsync(cancellationToken);
    }

    private async Task<PendingTurn> PrepareAsync(Conversation conversation, string words, CancellationToken cancellationToken)
    {
        TurnPipeline.Validate(words, null);
        var started = _time.GetTimestamp();
        var turns = conversation.Session.Turns;
        var input = await turns.PrepareAsync(conversation.State, words, null, cancellationToken);

        // Extraction needs only the user's words, so it runs while the agent calls the model.
        return new PendingTurn(input, turns.StartExtraction(input.Words, cancellationToken), started);
    }

    /// <summary>What the user said in this run: the text of its user messages; null when there is none.</summary>
    private static string? UserWords(IEnumerable<ChatMessage>? messages) => Text(messages?.Where(m => m.Role == ChatRole.User) ?? []);

    private static string? Text(IEnumerable<ChatMessage> messages)
    {
        var text = string.Join("\n", messages.Select(m => m.Text).Where(t => !string.IsNullOrWhiteSpace(t))).Trim();
        return text.Length == 0 ? null : text;
    }

    /// <summary>A run between weaving and recording: the prepared words and the extraction running beside the model.</summary>
    private sealed record PendingTurn(TurnInput Input, Task<IReadOnlyList<ExtractedFact>>? Extraction, long Started);
}
