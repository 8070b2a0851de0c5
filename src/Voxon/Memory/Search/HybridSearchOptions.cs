using System.Globalization;

namespace Voxon.Memory.Search;

/// <summary>
/// Tuning for hybrid (BM25 + embedding) memory search. The defaults were measured on long multi-session dialogues
/// with the default embedding model (bench/eval-sets); they are validated once, when an index is created, and copied, so later changes
/// to the object do not affect an existing index.
/// </summary>
/// <remarks>
/// <para>
/// Candidates: lexical takes the memories sharing a term with the query, by BM25; semantic those whose cosine
/// similarity with the query is at least <see cref="SemanticFloor"/>. Each list is cut to <see cref="CandidateWindow"/>
/// (or top-k, if larger).
/// </para>
/// <para>
/// Fusion (<see cref="Fusion"/>): by default <see cref="FusionMethod.Weighted"/>, each candidate's BM25 divided by the
/// query's best BM25 and its cosine min-max scaled over the semantic candidates, averaged with <see cref="LexicalWeight"/>
/// and <see cref="SemanticWeight"/> over the signals the query used. It was chosen by measurement: on long multi-session
/// dialogues rank fusion lost to BM25 alone, because it throws away how far ahead a clear lexical match is
/// (see bench/eval-sets/README.md). <see cref="FusionMethod.ReciprocalRank"/> remains available.
/// A query uses the lexical signal when it has at least one term after stop words, and the semantic signal when it
/// comes with an embedding and the index holds embeddings.
/// </para>
/// <para>
/// Score: 0..1. With weighted fusion, 1 means best by every signal the query used; a memory only one of two equally
/// weighted signals found scores at most 0.5. With rank fusion, the fused value over its maximum, <c>(sum of the weights
/// of the signals used) / (RrfK + 1)</c>. Time questions then scale scores by <see cref="TimeBoost"/> and back into 0..1.
/// So <c>minScore</c> is a relative threshold, not an absolute relevance measure: absolute relevance is enforced
/// by the lexical match and the semantic floor.
/// </para>
/// </remarks>
public sealed class HybridSearchOptions
{
    /// <summary>BM25 term-frequency saturation. Default 1.2; must be at least 0.</summary>
    public double K1 { get; set; } = 1.2;

    /// <summary>BM25 length normalisation, 0 (none) to 1 (full). Default 0.75.</summary>
    public double B { get; set; } = 0.75;

    /// <summary>How the two signals are combined. Default <see cref="FusionMethod.Weighted"/>.</summary>
    public FusionMethod Fusion { get; set; } = FusionMethod.Weighted;

    /// <summary>
    /// How much a "when" question favours memories whose text states a date, and a question about a span of days
    /// ("in May 2023") the memories in it: their score is multiplied by 1 + this. Default 0.3; range 0..10.
    /// </summary>
    public double TimeBoost { get; set; } = 0.3;

    /// <summary>
    /// Diversity of the top k, 0 (pure relevance) to 1: maximal marginal relevance trades this share of a candidate's
    /// score for its dissimilarity to the hits already chosen. Default 0.3: on the dialogue sets in bench/eval-sets it
    /// raised recall@10 of questions needing two facts (0.343 to 0.356) and overall (0.706 to 0.721), and cost no other kind.
    /// </summary>
    public double Diversity { get; set; } = 0.3;

    /// <summary>
    /// Centring of the semantic signal, 0 (plain cosine) to 1: the query is compared with each memory less this share of
    /// the mean of all the index's memory vectors, so that what every memory shares (the speakers' names, the style of
    /// small talk) counts less, as IDF does for words, and a short generic line no longer sits close to every question.
    /// The semantic floor applies to the centred similarity plus the share of the mean's squared norm, its average shift.
    /// Default 0.5: on the development dialogue set in bench/eval-sets it raised recall@10 from 0.721 to 0.743 (0.3:
    /// 0.746, 0.7: 0.743, 1: 0.738). <see cref="MemorySearchHit.SemanticScore"/> stays the plain cosine.
    /// </summary>
    public double Centering { get; set; } = 0.5;

    /// <summary>The reciprocal-rank-fusion constant; larger values flatten the advantage of top ranks. Default 60; must be at least 1.</summary>
    public int RrfK { get; set; } = 60;

    /// <summary>Weight of the lexical (BM25) signal in the fusion. Default 1; must be at least 0.</summary>
    public double LexicalWeight { get; set; } = 1.0;

    /// <summary>Weight of the semantic (embedding) signal in the fusion. Default 1; must be at least 0.</summary>
    public double SemanticWeight { get; set; } = 1.0;

    /// <summary>
    /// The cosine similarity below which a memory gets no semantic rank, so it is returned only if it matches
    /// the query lexically. Default 0.15: with all-MiniLM-L6-v2, unrelated short sentences mostly score
    /// below it and paraphrases of a short question 0.2 to 0.4; snowflake-arctic-embed-xs scores most memories above
    /// it, and the <see cref="CandidateWindow"/> then bounds the semantic list. Range -1..1.
    /// </summary>
    public double SemanticFloor { get; set; } = 0.15;

    /// <summary>How many of the best memories of each ranking take part in the fusion (raised to top-k when that is larger). Default 100; must be at least 1.</summary>
    public int CandidateWindow { get; set; } = 100;

    /// <summary>
    /// The copy of the embeddings the semantic scan reads before rescoring its shortlist in float32. Default
    /// <see cref="ScanPrecision.Int8"/>: in <c>harness search</c> it scans 100k memories several times faster than float32
    /// and returns the same top 10, while float16 is slower than float32 (converting each half costs more than the
    /// bytes it saves). Recall@10 on bench/eval-sets is unchanged.
    /// </summary>
    internal ScanPrecision Scan { get; set; } = ScanPrecision.Int8;

    /// <summary>
    /// The number of memories from which a compact <see cref="Scan"/> first ranks the whole index by <see cref="SignCodes"/>
    /// (one bit per dimension) and scans only the nearest sixteenth of it. Default 20,000: below that the full int8
    /// scan takes well under a millisecond; at 100k the prefilter reads 4.8 MB instead of 38 MB. At least 1.
    /// </summary>
    internal int SignPrefilterFrom { get; set; } = 20_000;

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
        Check(Enum.IsDefined(Fusion), nameof(Fusion), "a defined FusionMethod", (double)Fusion);
        Check(TimeBoost is >= 0 and <= 10, nameof(TimeBoost), "between 0 and 10", TimeBoost);
        Check(Diversity is >= 0 and <= 1, nameof(Diversity), "between 0 and 1", Diversity);
        Check(Centering is >= 0 and <= 1, nameof(Centering), "between 0 and 1", Centering);
        Check(CandidateWindow >= 1, nameof(CandidateWindow), ">= 1", CandidateWindow);
        Check(Enum.IsDefined(Scan), nameof(Scan), "a defined ScanPrecision", (double)Scan);
        Check(SignPrefilterFrom >= 1, nameof(SignPrefilterFrom), ">= 1", SignPrefilterFrom);
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
