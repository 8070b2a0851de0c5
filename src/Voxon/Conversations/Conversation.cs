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
    private Turns.ActiveReply? _activeReply;

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

    /// <summary>The reply being produced, which <see cref="Interrupt(string)"/> stops; null between turns.</summary>
    internal Turns.ActiveReply? ActiveReply
    {
        get => Volatile.Read(ref _activeReply);
        set => Volatile.Write(ref _activeReply, value);
    }

    /// <summary>A live voice connection's completion, while one runs this conversation's turns.</summary>
    internal Task? Live { get; set; }

    /// <summary>Whether a turn is in flight (a text turn holds the turn gate; a voice connection is live): the idle
    /// timeout never closes the session then.</summary>
    internal bool IsBusy => _turnGate.CurrentCount == 0 || Live is { IsCompleted: false };

    /// <summary>Sends the user's message and returns the assistant's reply. Memory is consulted before and updated after.</summary>
    /// <param name="text">What the user said (a transcript for voice).</param>
    /// <param name="cancellationToken">Cancels the turn; the user's words are still recorded (and read for memories), the reply is not.
    /// A turn cancelled while it waits behind another is recorded, and throws, when that one finishes, so the words keep their order.</param>
    /// <returns>The reply; empty when <see cref="Interrupt(string)"/> stopped it before it arrived.</returns>
    /// <exception cref="SessionStateException">The conversation has ended or the session is closed.</exception>
    /// <exception cref="ArgumentException">The message is empty or longer than <see cref="Session.MaxMessageLength"/>.</exception>
    /// <exception cref="Engine.EngineException">The model failed; nothing was recorded.</exception>
    public Task<string> SendMessageAsync(string text, CancellationToken cancellationToken = default) =>
        RunTurnAsync(text, null, cancellationToken);

    /// <summary>Sends a spoken message with the duration of its audio, which lets adaptation learn the speaking pace.</summary>
    public Task<string> SendMessageAsync(string text, TimeSpan audioDuration, CancellationToken cancellationToken = default) =>
        RunTurnAsync(text, audioDuration, cancellationToken);

    /// <summary>A turn; its events reach handlers after the turn has released its locks, so a handler may send a message too.</summary>
    private async Task<string> RunTurnAsync(string text, TimeSpan? audioDuration, CancellationToken cancellationToken)
    {
        using var deferred = _session.Events.Defer();
        return await _session.Turns.SendAsync(this, text, audioDuration, cancellationToken);
    }

    /// <summary>
    /// Sends the user's message and streams the reply's text as the model produces it (feed it to
    /// <see cref="Turns.SentenceChunker"/> for speech). The context is woven before the first chunk. The turn is recorded
    /// once: when the stream completes; when <see cref="Interrupt(string)"/> stops it (as heard, and the enumeration
    /// ends normally); or when it is cancelled or the caller stops enumerating (the user's words, and the part of the
    /// reply already delivered, marked interrupted). Time to first token is recorded on the reply and as a metric.
    /// </summary>
    /// <param name="text">What the user said.</param>
    /// <param name="cancellationToken">Cancels the turn; the enumeration then throws <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="SessionStateException">The conversation has ended or the session is closed.</exception>
    /// <exception cref="ArgumentException">The message is empty or longer than <see cref="Session.MaxMessageLength"/>.</exception>
    /// <exception cref="Engine.EngineException">The model failed; nothing was recorded.</exception>
    public IAsyncEnumerable<string> StreamMessageAsync(string text, CancellationToken cancellationToken = default) =>
        _session.Turns.StreamAsync(this, text, null, cancellationToken);

    /// <summary>Streams the reply to a spoken message with the duration of its audio (see <see cref="StreamMessageAsync(string, CancellationToken)"/>).</summary>
    public IAsyncEnumerable<string> StreamMessageAsync(string text, TimeSpan audioDuration, CancellationToken cancellationToken = default) =>
        _session.Turns.StreamAsync(this, text, audioDuration, cancellationToken);

    /// <summary>
    /// Says that the user is probably saying <paramref name="text"/> (an interim transcript, while the recognizer waits for
    /// the end of speech): computes what a turn with these words needs before its reply can start (the query embedding,
    /// kept in the session's cache), so a following <see cref="StreamMessageAsync(string, CancellationToken)"/> or
    /// <see cref="SendMessageAsync(string, CancellationToken)"/> with the same words skips the embedding model's encode.
    /// Nothing is recorded, no event is raised and memory is unchanged; when the final words differ, the turn simply
    /// encodes them. Personal data is redacted first when the session redacts, as the turn does.
    /// </summary>
    /// <param name="text">The words the user is probably saying.</param>
    /// <param name="cancellationToken">Cancels the preparation (a newer interim text makes it moot).</param>
    /// <exception cref="SessionStateException">The conversation has ended or the session is closed.</exception>
    /// <exception cref="ArgumentException">The text is empty or longer than <see cref="Session.MaxMessageLength"/>.</exception>
    public Task PrepareAsync(string text, CancellationToken cancellationToken = default) =>
        _session.Turns.PrepareWordsAsync(State, text, cancellationToken);

    /// <summary>This conversation's analytics: duration, turns, interruptions, context injections, response time, time to first token.</summary>
    public Analytics.ConversationAnalytics GetAnalytics() => _session.GetConversationAnalytics(State);

    /// <summary>
    /// Barge-in: the user interrupted the assistant after hearing <paramref name="heardText"/>. The reply being streamed
    /// stops; the reply is stored as heard, the generated text kept beside it (<see cref="ConversationTurn.GeneratedContent"/>),
    /// and the interruption counted. When no reply is streaming, the last recorded one is amended (its audio was still playing).
    /// Nothing unheard reaches the model's history, memory or adaptation.
    /// </summary>
    /// <returns>False when there is no reply to interrupt, or the last one is already marked interrupted.</returns>
    /// <exception cref="SessionStateException">The conversation has ended or the session is closed.</exception>
    /// <exception cref="ArgumentException">The text has half of a surrogate pair other than at its end.</exception>
    public bool Interrupt(string heardText)
    {
        ArgumentNullException.ThrowIfNull(heardText);

        // Heard text is often the reply cut where the audio stopped: a cut inside its last character (an emoji) drops it.
        if (heardText.Length > 0 && char.IsHighSurrogate(heardText[^1]))
        {
            heardText = heardText[..^1];
        }

        WellFormedText.Check(heardText, "The heard text", nameof(heardText));
        return _session.Turns.Interrupt(this, new Turns.Interruption(heardText, null, null));
    }

    /// <summary>
    /// Barge-in by audio: <paramref name="played"/> of the reply's <paramref name="total"/> audio was played; the words
    /// heard are estimated in proportion. Otherwise as <see cref="Interrupt(string)"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative played time or a non-positive total.</exception>
    /// <exception cref="SessionStateException">The conversation has ended or the session is closed.</exception>
    public bool Interrupt(TimeSpan played, TimeSpan total) =>
        _session.Turns.Interrupt(this, Turns.Interruption.ByAudio(played, total));

    /// <summary>Reports that the user interrupted the assistant's reply without saying what was heard: it is marked
    /// <see cref="ConversationTurn.Interrupted"/> and counted, and adaptation leans towards shorter replies. Prefer
    /// <see cref="Interrupt(string)"/> or <see cref="Interrupt(TimeSpan, TimeSpan)"/>, which store only what was heard.</summary>
    /// <returns>False when there is no reply to interrupt or it was already marked.</returns>
    /// <exception cref="SessionStateException">The conversation has ended or the session is closed.</exception>
    public bool ReportInterruption() => _session.Turns.Interrupt(this, Turns.Interruption.Unknown);

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
        await _session.SaveIfOpenAsync();
    }
}
