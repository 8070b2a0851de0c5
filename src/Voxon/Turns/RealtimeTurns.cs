using Microsoft.Extensions.AI;
using Voxon.Conversations;
using Voxon.Engine;
using Voxon.Engine.Realtime;
using Voxon.Sessions;

namespace Voxon.Turns;

/// <summary>The realtime engine's turns, through the turn pipeline: the user's words are woven (sensitive memories left
/// out of the live session's instructions; first from the words alone, then with their embedding), recorded and read
/// for memories; each reply is recorded as heard.</summary>
internal sealed class RealtimeTurns(TurnPipeline pipeline, Conversation conversation) : IRealtimeTurnSink
{
    public PreparedUserTurn PrepareUserTurn(string words, TimeSpan? audio)
    {
        // A transcript is what the user said: an over-long one is cut rather than refused, and a zero-length
        // utterance carries no pace.
        words = WellFormedText.Cut(words, TurnPipeline.MaxMessageLength);
        words = pipeline.Redact(words);
        audio = audio > TimeSpan.Zero ? audio : null;
        var config = conversation.Session.Config;
        // The live session is already answering: the embedding (the slowest step) waits until the first update is out.
        // The live session keeps its own dialogue: the input carries no history.
        var input = pipeline.Weave(conversation.State, words, [], audio, excludeSensitive: true, withHistory: false);
        Task<IReadOnlyList<Memory.ExtractedFact>>? extraction = null;
        return new PreparedUserTurn(
            Instructions(config, input.Context.Text),
            async ct =>
            {
                extraction = pipeline.StartExtraction(words, ct);
                input = await pipeline.PrepareAsync(conversation.State, words, audio, excludeSensitive: true, withHistory: false, ct);
                return Instructions(config, input.Context.Text);
            },
            ct => pipeline.RecordAsync(conversation, input, null, extraction, ct));
    }

    public Task RecordReplyAsync(RealtimeReply reply, CancellationToken cancellationToken)
    {
        var heard = reply.Played is not { } played ? null
            : reply.AudioTotal > TimeSpan.Zero ? Interruption.ByAudio(played, reply.AudioTotal).Heard(reply.Generated)
            : string.Empty;
        return pipeline.RecordAsync(
            conversation,
            null,
            new TurnReply
            {
                Generated = reply.Generated,
                Heard = heard,
                Interrupted = reply.Interrupted,
                ResponseTimeMs = reply.ResponseTimeMs,
                ToolCalls = reply.ToolCalls.Count == 0 ? null : reply.ToolCalls,
            },
            null,
            cancellationToken);
    }

    public IReadOnlyList<ChatMessage> Dialogue() =>
        [.. VoxEngine.HistoryMessages(pipeline.History(conversation.State))];

    /// <summary>The live session's instructions: the session's own, then the woven context.</summary>
    public static string Instructions(Sessions.SessionConfig config, string context) =>
        string.IsNullOrEmpty(context) ? VoxEngine.Instructions(config) : $"{VoxEngine.Instructions(config)}\n\n{context}";
}
