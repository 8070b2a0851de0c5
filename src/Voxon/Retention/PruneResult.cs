namespace Voxon.Retention;

/// <summary>What <see cref="VoxonClient.PruneSessionsAsync"/> removed (or, in a dry run, would remove).</summary>
/// <param name="Cutoff">Sessions last updated before this instant were pruned.</param>
/// <param name="SessionIds">The sessions pruned, oldest first.</param>
/// <param name="DryRun">Whether nothing was deleted.</param>
public sealed record PruneResult(DateTimeOffset Cutoff, IReadOnlyList<string> SessionIds, bool DryRun);
