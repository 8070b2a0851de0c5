using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Voxon.Engine.Realtime;
using Voxon.Sessions;
using Voxon.Turns;

namespace Voxon.Conversations;

/// <summary>
/// A spoken conversation with a realtime speech-to-speech model (OpenAI Realtime protocol). The caller feeds the
/// user's audio in (<see cref="SendAudioAsync"/>) and plays the model's audio out (<see cref="ReadAudioAsync"/>). Each
/// transcribed utterance is a user turn of <see cref="Conversation"/> (recorded, read for memories, and the context
/// re-woven into the live session); each reply is an assistant turn, stored as heard when the user cut in.
/// <c>await using</c> ends it and saves the session.
/// </summary>
/// <remarks>Audio is 16-bit little-endian mono PCM at 24 kHz both ways (<see cref="RealtimeAudio"/>). Members are
/// thread-safe; turns are handled in the order the server sends them.</remarks>
public sealed class VoiceConversation : IAsyncDisposable
{
    private readonly RealtimeVoiceEngine _engine;

    private VoiceConversation(Conversation conversation, RealtimeVoiceEngine engine)
    {
        Conversation = conversation;
        _engine = engine;
        _engine.PlaybackInterrupted += item => PlaybackInterrupted?.Invoke(this, item);
        _engine.Reconnected += attempt => Reconnected?.Invoke(this, attempt);
    }

    /// <summary>The conversation that records the voice turns.</summary>
    public Conversation Conversation { get; }

    /// <summary>The conversation id.</summary>
    public string ConversationId => Conversation.ConversationId;

    /// <summary>The turns recorded so far.</summary>
    public IReadOnlyList<ConversationTurn> Transcript => Conversation.Transcript;

    /// <summary>Completes when the conversation ends; faults with <see cref="RealtimeConnectionException"/> when the
    /// connection dropped and could not be opened again, or the engine stopped on an unexpected error (the inner
    /// exception); every turn heard until then is recorded either way.</summary>
    public Task Completion => _engine.Completion;

    /// <summary>The user started speaking over a reply: stop playing the audio of the item named (and drop what is queued of it).</summary>
    public event EventHandler<string>? PlaybackInterrupted;

    /// <summary>The connection dropped and a new realtime session took its place, configured with the context last woven
    /// and the recent dialogue (<see cref="RealtimeOptions.MaxReconnectAttempts"/>); the argument is the attempt that
    /// succeeded, from 1. What the old session was hearing or saying at the drop is lost; a reply cut by it is recorded
    /// as far as its audio had arrived, marked interrupted.</summary>
    public event EventHandler<int>? Reconnected;

    /// <summary>Sends the user's audio. Audio sent while a dropped connection is being opened again is lost.</summary>
    /// <exception cref="RealtimeConnectionException">The connection dropped and is not opened again.</exception>
    public Task SendAudioAsync(ReadOnlyMemory<byte> pcm16, CancellationToken cancellationToken = default) =>
        _engine.SendAudioAsync(pcm16, cancellationToken);

    /// <summary>Ends the user's utterance (push to talk; with server VAD the server does this by itself) and, without
    /// server VAD, asks the model to answer.</summary>
    /// <exception cref="RealtimeConnectionException">The connection dropped.</exception>
    public Task CommitAudioAsync(CancellationToken cancellationToken = default) => _engine.CommitAudioAsync(cancellationToken);

    /// <summary>The model's audio as it arrives; ends when the conversation ends.</summary>
    public IAsyncEnumerable<VoiceAudioChunk> ReadAudioAsync(CancellationToken cancellationToken = default) => _engine.ReadAudioAsync(cancellationToken);

    /// <summary>Reports how much of an item's audio has been played. Without reports, audio is assumed to play in real
    /// time from its first chunk; reports make the cut on barge-in exact.</summary>
    public void ReportPlayback(string itemId, TimeSpan played) => _engine.ReportPlayback(itemId, played);

    /// <summary>Ends the conversation: records what is pending, closes the connection, ends <see cref="Conversation"/>
    /// and saves the session.</summary>
    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await Conversation.DisposeAsync();
    }

    internal static async Task<VoiceConversation> StartAsync(Session session, VoxonRuntime runtime, VoiceConversationOptions options, CancellationToken cancellationToken)
    {
        var realtime = options.Realtime ?? runtime.Realtime
            ?? throw new VoxonConfigurationException("realtime settings", [$"no realtime endpoint is configured: set VoxonOptions.Realtime or {RealtimeOptions.EndpointVariable} and {RealtimeOptions.ModelVariable}"]);
        realtime.Validate();
        var conversation = await session.StartConversationAsync(options.ConversationId, options.ParentId, cancellationToken);
        try
        {
            var config = session.Config;
            var opening = session.Turns.WeaveOpening(conversation.State);
            var setup = new RealtimeSetup(
                RealtimeTurns.Instructions(config, opening.Text),
                config.Voice,
                RealtimeSetup.SpeedFor(session.GetLearnedPreferences().SpeakingPace),
                config.Language,
                config.MaxOutputTokens,
                options.ServerVad,
                realtime.TranscriptionModel,
                config.EnableFunctions ? [.. options.Tools, .. session.Turns.Tools().OfType<AIFunction>().Where(t => options.Tools.All(o => o.Name != t.Name))] : []);
            var engine = await RealtimeVoiceEngine.StartAsync(
                realtime, setup, new RealtimeTurns(session.Turns, conversation), runtime.Time, runtime.LoggerFactory.CreateLogger<VoiceConversation>(), cancellationToken);
            conversation.Live = engine.Completion;
            return new VoiceConversation(conversation, engine);
        }
        catch
        {
            await conversation.EndAsync(CancellationToken.None);
            throw;
        }
    }
}
