namespace Voxon.Memory;

/// <summary>What adding one memory did: the entry now live (the existing one for a duplicate),
/// whether it was a duplicate, the entry it superseded, and entries evicted to make room.</summary>
internal sealed record MemoryChange(MemoryEntry Entry, bool Duplicate, MemoryEntry? Superseded, IReadOnlyList<MemoryEntry> Evicted, bool OverBudget);
