namespace Voxon.Turns;

/// <summary>The assistant's side of a turn as the pipeline records it.</summary>
internal sealed record TurnReply
{
    /// <summary>Everything the model generated.</summary>
    public required string Generated { get; init; }

    /// <summary>What the user heard when the reply was interrupted; null when the whole reply was delivered.</summary>
    public string? Heard { get; init; }

    /// <summary>How long the model took to finish (or to be cut off), in milliseconds.</summary>
    public double? ResponseTimeMs { get; init; }

    /// <summary>From the start of the turn to the first chunk of the reply, in milliseconds (streamed turns).</summary>
    public double? TimeToFirstTokenMs { get; init; }

    /// <summary>Whether the user interrupted the reply.</summary>
    public bool Interrupted { get; init; }

    /// <summary>The functions the model called for the reply.</summary>
    public IReadOnlyList<Conversations.ToolCall>? ToolCalls { get; init; }
}
