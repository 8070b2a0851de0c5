using System.Globalization;

namespace Voxon.Memory.Search;

/// <summary>
/// Tuning for hybrid (BM25 + embedding) memory search. The defaults suit short memory sentences and the
/// all-MiniLM-L6-v2 model; they are validated once, when an index is created, and copied, so later changes
/// to the object do not affect an existing index.
/// </summary>
/// <remarks>
/// <para>
/// Ranking: each signal ranks the memories that pass the filter. Lexical ranks those sharing a term with
/// the query, by BM25. Semantic ranks those whose cosine similarity with the query is at least
/// <see cref="SemanticFloor"/>. Each ranking is cut to <see cref="CandidateWindow"/> (or top-k, if larger)
/// and the two are fused by reciprocal rank: <c>LexicalWeight / (RrfK + lexicalRank) + SemanticWeight / (RrfK + semanticRank)</c>,
/// ranks starting at 1, a missing rank contributing 0.
/// </para>
/// <para>
/// Score: the fused value divided by its maximum for the query, <c>(sum of the weights of the signals the
/// query used) / (RrfK + 1)</c>. A query uses the lexical signal when it has at least one term after stop
/// words, and the semantic signal when it comes with an embedding and the index holds embeddings.
/// With the default weights, a memory ranked first by both signals scores 1.0; ranked 10th by both, about 0.87;
/// ranked first by only one of two signals, 0.5. So <c>minScore</c> is a rank-agreement threshold, not an
/// absolute relevance measure: absolute relevance is enforced by the lexical match and the semantic floor.
/// </para>
/// </remarks>
public sealed class HybridSearchOptions
{
    /// <summary>BM25 term-frequency saturation. Default 1.2; must be at least 0.</summary>
    public double K1 { get; set; } = 1.2;

    /// <summary>BM25 length normalisation, 0 (none) to 1 (full). Default 0.75.</summary>
    public double B { get; set; } = 0.75;

    /// <summary>The reciprocal-rank-fusion constant; larger values flatten the advantage of top ranks. Default 60; must be at least 1.</summary>
    public int RrfK { get; set; } = 60;

    /// <summary>Weight of the lexical (BM25) ranking in the fusion. Default 1; must be at least 0.</summary>
    public double LexicalWeight { get; set; } = 1.0;

    /// <summary>Weight of the semantic (embedding) ranking in the fusion. Default 1; must be at least 0.</summary>
    public double SemanticWeight { get; set; } = 1.0;

    /// <summary>
    /// The cosine similarity below which a memory gets no semantic rank, so it is returned only if it matches
    /// the query lexically. Default 0.15: with all-MiniLM-L6-v2, unrelated short sentences mostly score
    /// below it and paraphrases of a short question 0.2 to 0.4. Range -1..1.
    /// </summary>
    public double SemanticFloor { get; set; } = 0.15;

    /// <summary>How many of the best memories of each ranking take part in the fusion (raised to top-k when that is larger). Default 100; must be at least 1.</summary>
    public int CandidateWindow { get; set; } = 100;

    /// <summary>Throws one <see cref="ArgumentException"/> naming every invalid setting.</summary>
    internal void Validate()
    {
        var problems = new List<string>();
        Check(double.IsFinite(K1) && K1 >= 0, nameof(K1), "a finite number >= 0", K1);
        Check(B is >= 0 and <= 1, nameof(B), "between 0 and 1", B);
        Check(RrfK >= 1, nameof(RrfK), ">= 1", RrfK);
        Check(double.IsFinite(LexicalWeight) && LexicalWeight >= 0, nameof(LexicalWeight), "a finite number >= 0", LexicalWeight);
        Check(double.IsFinite(SemanticWeight) && SemanticWeight >= 0, nameof(SemanticWeight), "a finite number >= 0", SemanticWeight);
        Check(LexicalWeight + SemanticWeight > 0, "LexicalWeight + SemanticWeight", "> 0", LexicalWeight + SemanticWeight);
        Check(SemanticFloor is >= -1 and <= 1, nameof(SemanticFloor), "between -1 and 1", SemanticFloor);
        Check(CandidateWindow >= 1, nameof(CandidateWindow), ">= 1", CandidateWindow);
        if (problems.Count > 0)
        {
            throw new ArgumentException($"Invalid {nameof(HybridSearchOptions)}: {string.Join("; ", problems)}.");
        }

        void Check(bool valid, string name, string rule, double value)
        {
            if (!valid)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} must be {rule} (was {value})"));
            }
        }
    }

    internal HybridSearchOptions Clone() => (HybridSearchOptions)MemberwiseClone();
}
