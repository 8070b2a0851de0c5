namespace Voxon.Conversations;

/// <summary>One message of a transcript.</summary>
public sealed record ConversationTurn
{
    /// <summary>Who spoke.</summary>
    public required TurnRole Role { get; init; }

    /// <summary>What was said (redacted first when the session redacts personal data). For an interrupted assistant
    /// reply, what the user heard before interrupting; the rest is in <see cref="GeneratedContent"/>.</summary>
    public required string Content { get; init; }

    /// <summary>When it was said.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>For assistant turns: how long the engine took, in milliseconds.</summary>
    public double? ResponseTimeMs { get; init; }

    /// <summary>For user turns: the memories ContextWeaver injected to answer it.</summary>
    public IReadOnlyList<string>? InjectedMemoryIds { get; init; }

    /// <summary>For user turns with audio: seconds of speech, which lets adaptation learn the speaking pace.</summary>
    public double? AudioSeconds { get; init; }

    /// <summary>For assistant turns: whether the user interrupted the reply.</summary>
    public bool Interrupted { get; init; }

    /// <summary>For interrupted assistant turns: everything the model generated, of which the user heard <see cref="Content"/>.
    /// Kept for review only: the model's history, memory extraction and adaptation use <see cref="Content"/>.</summary>
    public string? GeneratedContent { get; init; }

    /// <summary>For streamed assistant turns: milliseconds from the user's message to the first chunk of the reply.</summary>
    public double? TimeToFirstTokenMs { get; init; }

    /// <summary>For assistant turns: the functions the model called to produce the reply, in order.</summary>
    public IReadOnlyList<ToolCall>? ToolCalls { get; init; }
}
