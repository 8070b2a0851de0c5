using Voxon.Storage;

namespace Voxon.Retention;

/// <summary>
/// Retention by age: deletes the sessions last updated before a cutoff, in batches. Each batch is read afresh from
/// the listing, so a prune interrupted by a crash is completed by running it again (what was deleted stays deleted,
/// the rest still matches).
/// </summary>
internal static class SessionPruner
{
    /// <summary>Sessions deleted per batch.</summary>
    public const int BatchSize = 100;

    public static async Task<PruneResult> PruneAsync(SessionStorage storage, DateTimeOffset cutoff, string? userId, bool dryRun, CancellationToken cancellationToken)
    {
        var candidates = (await storage.ListAsync(userId, cancellationToken)).Where(s => s.UpdatedAt < cutoff).OrderBy(s => s.UpdatedAt).Select(s => s.SessionId).ToList();
        if (dryRun)
        {
            return new PruneResult(cutoff, candidates, true);
        }

        var pruned = new List<string>(candidates.Count);
        foreach (var batch in candidates.Chunk(BatchSize))
        {
            // A session saved again since the listing is recent now: it is kept.
            var current = (await storage.ListAsync(userId, cancellationToken)).Where(s => s.UpdatedAt < cutoff).Select(s => s.SessionId).ToHashSet(StringComparer.Ordinal);
            foreach (var id in batch.Where(current.Contains))
            {
                if (await storage.DeleteAsync(id, cancellationToken))
                {
                    pruned.Add(id);
                }
            }
        }

        return new PruneResult(cutoff, pruned, false);
    }
}
