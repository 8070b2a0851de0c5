namespace Voxon.Context;

/// <summary>The context ContextWeaver built for one turn: the text given to the engine and which memories went into it.</summary>
/// <param name="Text">Rendered context (empty when there is nothing to say).</param>
/// <param name="Injected">Each memory injected, in the order rendered, with why.</param>
/// <param name="TokenCount">Tokens of <paramref name="Text"/>.</param>
public sealed record WovenContext(string Text, IReadOnlyList<InjectedMemory> Injected, int TokenCount)
{
    /// <summary>No context.</summary>
    public static WovenContext Empty { get; } = new(string.Empty, [], 0);
}

/// <summary>A memory ContextWeaver injected into a turn.</summary>
/// <param name="MemoryId">The memory.</param>
/// <param name="Reason"><c>profile</c> (always-on facts about the user) or <c>relevant</c> (found by search for the message).</param>
/// <param name="Score">Search score (1 for profile facts).</param>
/// <param name="FromBranch">The branch it was scoped to, when it came from a branch below the current conversation.</param>
public sealed record InjectedMemory(string MemoryId, string Reason, double Score, string? FromBranch = null);
