namespace Voxon.Context;

/// <summary>How ContextWeaver picks memories. The token budget itself is per session (<see cref="Sessions.SessionConfig.ContextTokenBudget"/>).</summary>
public sealed class ContextWeaverOptions
{
    /// <summary>Most memories found by search per turn. Default 8.</summary>
    public int TopK { get; set; } = 8;

    /// <summary>Lowest search score (0..1) a memory needs to be injected as relevant. Default 0.3.</summary>
    public double MinScore { get; set; } = 0.3;

    /// <summary>Factor applied to scores of memories from branches below the conversation. Default 0.5.</summary>
    public double BranchPenalty { get; set; } = 0.5;
}
