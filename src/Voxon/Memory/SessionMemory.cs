namespace Voxon.Memory;

/// <summary>A snapshot of a session's live memory (the spec's <c>get_memory()</c>).</summary>
/// <param name="Entries">Live entries: not superseded, not expired. Sensitive content is included; redact before showing it.</param>
/// <param name="TokenCount">Tokens of the live entries (o200k_base).</param>
/// <param name="MaxTokens">The session's max_memory_size.</param>
public sealed record SessionMemory(IReadOnlyList<MemoryEntry> Entries, int TokenCount, int MaxTokens)
{
    /// <summary>Share of the budget in use, 0..1 (can exceed 1 only when importance-1.0 entries alone exceed it).</summary>
    public double Usage => MaxTokens == 0 ? 0 : (double)TokenCount / MaxTokens;
}
