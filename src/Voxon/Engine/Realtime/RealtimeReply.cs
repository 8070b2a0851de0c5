namespace Voxon.Engine.Realtime;

/// <summary>One spoken reply of the realtime model, as the engine hands it over for recording.</summary>
/// <param name="Generated">The transcript of everything the model generated for the reply.</param>
/// <param name="Played">How much of the reply's audio was played when the user cut in; null when it was played whole.</param>
/// <param name="AudioTotal">The duration of the reply's audio that was generated.</param>
/// <param name="ResponseTimeMs">From the end of the user's speech to the first audio, in milliseconds, when known.</param>
/// <param name="ToolCalls">Functions the model called on the way to the reply.</param>
internal sealed record RealtimeReply(string Generated, TimeSpan? Played, TimeSpan AudioTotal, double? ResponseTimeMs, IReadOnlyList<Conversations.ToolCall> ToolCalls)
{
    /// <summary>Whether the user cut the reply short.</summary>
    public bool Interrupted => Played is not null;
}
