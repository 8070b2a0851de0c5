namespace Voxon.Memory;

/// <summary>Data of <c>memory.superseded</c>: the slot, the entry kept as history and the one that replaced it (both redacted).</summary>
public sealed record MemorySuperseded(string Slot, MemoryEntry Previous, MemoryEntry Current);
