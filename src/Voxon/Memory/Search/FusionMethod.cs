namespace Voxon.Memory.Search;

/// <summary>How hybrid memory search combines its lexical and semantic signals.</summary>
public enum FusionMethod
{
    /// <summary>
    /// Normalized weighted fusion (the default): BM25 divided by the best BM25 of the query, cosine similarity
    /// min-max scaled over the semantic candidates, then averaged with the signal weights. It keeps the score
    /// gaps that rank fusion throws away, so a clear lexical winner stays on top.
    /// </summary>
    Weighted,

    /// <summary>Reciprocal rank fusion: only each memory's rank in each signal counts.</summary>
    ReciprocalRank,
}
