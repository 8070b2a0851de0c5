namespace Voxon.Memory;

/// <summary>A fact found in what the user said, before it becomes a <see cref="MemoryEntry"/>.</summary>
/// <param name="Content">The fact in third person ("User lives in Lisbon").</param>
/// <param name="Category">identity, interest, location, work, preference, note, mood...</param>
/// <param name="Importance">0..1; drives persistence in hybrid mode and eviction.</param>
/// <param name="Slot">Single-valued slot (identity.name, location.home...) or null when several facts may coexist.</param>
public sealed record ExtractedFact(string Content, string Category, double Importance, string? Slot);
