using Voxon.Conversations;
using Voxon.Engine;
using Voxon.Engine.Realtime;

namespace Voxon.Turns;

/// <summary>The realtime engine's turns, through the turn pipeline: the user's words are woven (sensitive memories left
/// out of the live session's instructions), recorded and read for memories; each reply is recorded as heard.</summary>
internal sealed class RealtimeTurns(TurnPipeline pipeline, Conversation conversation) : IRealtimeTurnSink
{
    public async Task<PreparedUserTurn> PrepareUserTurnAsync(string words, TimeSpan? audio, CancellationToken cancellationToken)
    {
        // A transcript is what the user said: an over-long one is cut rather than refused, and a zero-length
        // utterance carries no pace.
        if (words.Length > TurnPipeline.MaxMessageLength)
        {
            words = words[..TurnPipeline.MaxMessageLength];
        }

        var input = await pipeline.PrepareAsync(conversation.State, pipeline.Redact(words), audio > TimeSpan.Zero ? audio : null, excludeSensitive: true, cancellationToken);
        var extraction = pipeline.StartExtraction(input.Words, cancellationToken);
        return new PreparedUserTurn(
            Instructions(conversation.Session.Config, input.Context.Text),
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

    /// <summary>The live session's instructions: the session's own, then the woven context.</summary>
    public static string Instructions(Sessions.SessionConfig config, string context) =>
        string.IsNullOrEmpty(context) ? VoxEngine.Instructions(config) : $"{VoxEngine.Instructions(config)}\n\n{context}";
}
