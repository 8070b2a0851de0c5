using Voxon.Context;
using Voxon.Sessions;

namespace Voxon.Conversations;

/// <summary>
/// An open conversation of a <see cref="Session"/>. <c>await using</c> ends it and saves the session.
/// </summary>
/// <remarks>Thread-safe; concurrent <c>SendMessageAsync</c> calls run one after the other.</remarks>
public sealed class Conversation : IAsyncDisposable
{
    private readonly Session _session;
    private readonly SemaphoreSlim _turnGate = new(1, 1);

    internal Conversation(Session session, ConversationState state)
    {
        _session = session;
        State = state;
    }

    /// <summary>The conversation id.</summary>
    public string ConversationId => State.Id;

    /// <summary>The conversation this one branched from.</summary>
    public string? ParentId => State.ParentId;

    /// <summary>The session it belongs to.</summary>
    public Session Session => _session;

    /// <summary>Whether messages can be sent (not ended, session not closed).</summary>
    public bool IsActive => _session.IsOpen(State);

    /// <summary>This conversation's own messages so far.</summary>
    public IReadOnlyList<ConversationTurn> Transcript => _session.GetTranscript(State.Id);

    /// <summary>The context ContextWeaver built for the last turn (what was injected and why).</summary>
    public WovenContext? LastContext { get; internal set; }

    internal ConversationState State { get; }

    internal SemaphoreSlim TurnGate => _turnGate;

    /// <summary>Sends the user's message and returns the assistant's reply. Memory is consulted before and updated after.</summary>
    /// <param name="text">What the user said (a transcript for voice).</param>
    /// <param name="cancellationToken">Cancels the turn; a cancelled turn records nothing.</param>
    /// <exception cref="SessionStateException">The conversation has ended or the session is closed.</exception>
    /// <exception cref="ArgumentException">The message is empty or longer than <see cref="Session.MaxMessageLength"/>.</exception>
    /// <exception cref="Engine.EngineException">The model failed; nothing was recorded.</exception>
    public Task<string> SendMessageAsync(string text, CancellationToken cancellationToken = default) =>
        _session.Turns.SendAsync(this, text, null, cancellationToken);

    /// <summary>Sends a spoken message with the duration of its audio, which lets adaptation learn the speaking pace.</summary>
    public Task<string> SendMessageAsync(string text, TimeSpan audioDuration, CancellationToken cancellationToken = default) =>
        _session.Turns.SendAsync(this, text, audioDuration, cancellationToken);

    /// <summary>This conversation's analytics: duration, turns, interruptions, context injections, response time.</summary>
    public Analytics.ConversationAnalytics GetAnalytics() => _session.GetConversationAnalytics(State);

    /// <summary>Reports that the user interrupted the assistant's last reply (barge-in): it is marked
    /// <see cref="ConversationTurn.Interrupted"/>, counted, and adaptation leans towards shorter replies.</summary>
    /// <returns>False when there is no reply to interrupt or it was already marked.</returns>
    /// <exception cref="SessionStateException">The session is closed.</exception>
    public bool ReportInterruption() => _session.ReportInterruption(State);

    /// <summary>Ends the conversation. Its transient memories (ephemeral mode, or below the hybrid threshold) end with it.</summary>
    public Task EndAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _session.EndConversation(State);
        return Task.CompletedTask;
    }

    /// <summary>Ends the conversation and saves the session (when the session is still open).</summary>
    public async ValueTask DisposeAsync()
    {
        _session.EndConversation(State);
        if (_session.IsActive)
        {
            await _session.SaveAsync();
        }
    }
}
