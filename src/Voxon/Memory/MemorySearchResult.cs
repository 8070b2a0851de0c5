namespace Voxon.Memory;

/// <summary>A memory found by search, with its fused score (0..1) and the lexical and semantic parts.</summary>
public sealed record MemorySearchResult(MemoryEntry Entry, double Score, double LexicalScore, double SemanticScore);
