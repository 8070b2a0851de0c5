namespace Voxon.Memory.Search;

/// <summary>One result of a hybrid memory search.</summary>
/// <param name="Id">The id the memory was indexed under.</param>
/// <param name="Score">
/// The fused score in 0..1; 1 means best by every signal the query used. See <see cref="HybridSearchOptions"/>.
/// </param>
/// <param name="LexicalScore">The raw BM25 score (unbounded, 0 when no query term occurs in the memory).</param>
/// <param name="SemanticScore">The cosine similarity of the query and memory embeddings (-1..1; 0 when either has no embedding).</param>
public readonly record struct MemorySearchHit(string Id, double Score, double LexicalScore, double SemanticScore);
