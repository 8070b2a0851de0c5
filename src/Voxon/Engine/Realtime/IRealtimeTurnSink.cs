using Microsoft.Extensions.AI;

namespace Voxon.Engine.Realtime;

/// <summary>Where the realtime engine hands the turns it hears: the session's turn pipeline. The engine knows the
/// protocol; the sink knows sessions (weaving, recording, extraction, events).</summary>
internal interface IRealtimeTurnSink
{
    /// <summary>Weaves the context for the user's words from what is ready at once (memory searched by the words alone,
    /// without their embedding), for the <c>session.update</c> the engine sends first; the rest of the turn follows
    /// through the returned <see cref="PreparedUserTurn"/>.</summary>
    PreparedUserTurn PrepareUserTurn(string words, TimeSpan? audio);

    /// <summary>Records the assistant's reply as the user heard it.</summary>
    Task RecordReplyAsync(RealtimeReply reply, CancellationToken cancellationToken);

    /// <summary>The conversation so far as the model should see it (replies as heard), for a session opened after a drop.</summary>
    IReadOnlyList<ChatMessage> Dialogue();
}

/// <summary>A user turn whose first context is ready; the engine sends it, then completes the turn.</summary>
/// <param name="Instructions">The live session's instructions with the context woven from the words alone.</param>
/// <param name="WeaveAsync">Embeds the words and weaves the context again with semantic search: the instructions the
/// live session should have next (the same text when nothing changed).</param>
/// <param name="RecordAsync">Records the turn (with the last context woven) and extracts its memories.</param>
internal sealed record PreparedUserTurn(string Instructions, Func<CancellationToken, Task<string>> WeaveAsync, Func<CancellationToken, Task> RecordAsync);
