namespace Voxon.Conversations;

/// <summary>One message of a transcript.</summary>
public sealed record ConversationTurn
{
    /// <summary>Who spoke.</summary>
    public required TurnRole Role { get; init; }

    /// <summary>What was said (redacted first when the session redacts personal data).</summary>
    public required string Content { get; init; }

    /// <summary>When it was said.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>For assistant turns: how long the engine took, in milliseconds.</summary>
    public double? ResponseTimeMs { get; init; }

    /// <summary>For user turns: the memories ContextWeaver injected to answer it.</summary>
    public IReadOnlyList<string>? InjectedMemoryIds { get; init; }

    /// <summary>For user turns: each injected memory with why it was chosen (reason, score, the branch it came from).</summary>
    public IReadOnlyList<Context.InjectedMemory>? Injections { get; init; }

    /// <summary>For user turns: tokens of the context woven for it, and the budget it had to fit in.</summary>
    public ContextUsage? Context { get; init; }

    /// <summary>For user turns with audio: seconds of speech, which lets adaptation learn the speaking pace.</summary>
    public double? AudioSeconds { get; init; }

    /// <summary>For assistant turns: whether the user interrupted the reply.</summary>
    public bool Interrupted { get; init; }
}
