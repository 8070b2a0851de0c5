namespace Voxon.Engine.Realtime;

/// <summary>Where the realtime engine hands the turns it hears: the session's turn pipeline. The engine knows the
/// protocol; the sink knows sessions (weaving, recording, extraction, events).</summary>
internal interface IRealtimeTurnSink
{
    /// <summary>Weaves the context for the user's words (what the live session gets next, via <c>session.update</c>)
    /// and returns it with a step that records the turn; the engine sends the update before it records.</summary>
    Task<PreparedUserTurn> PrepareUserTurnAsync(string words, TimeSpan? audio, CancellationToken cancellationToken);

    /// <summary>Records the assistant's reply as the user heard it.</summary>
    Task RecordReplyAsync(RealtimeReply reply, CancellationToken cancellationToken);
}

/// <summary>A user turn ready to record.</summary>
/// <param name="Instructions">The live session's instructions with the context woven for the words.</param>
/// <param name="RecordAsync">Records the turn and extracts its memories.</param>
internal sealed record PreparedUserTurn(string Instructions, Func<CancellationToken, Task> RecordAsync);
