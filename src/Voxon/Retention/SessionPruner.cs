using Voxon.Storage;

namespace Voxon.Retention;

/// <summary>
/// Retention by age: deletes the sessions last updated before a cutoff, oldest first, in batches over one listing.
/// Before its deletion each candidate's stored head is read again, so a session saved since the listing (recent now)
/// is kept, and the delete is conditional on the version read, so one saved after that check is kept too. A prune
/// interrupted by a crash is completed by running it again: what was deleted stays deleted, and the new listing holds
/// exactly the rest.
/// </summary>
internal static class SessionPruner
{
    /// <summary>Sessions deleted per batch (cancellation is honoured between batches).</summary>
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
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var id in batch)
            {
                if (await DeleteIfStillOldAsync(storage, id, cutoff, cancellationToken))
                {
                    pruned.Add(id);
                }
            }
        }

        return new PruneResult(cutoff, pruned, false);
    }

    /// <summary>Deletes the session if it is still stored and not updated since the cutoff: only the version read is
    /// deleted, so a save landing after the check keeps the session. An unreadable one (corrupt, or a restored copy
    /// whose key was erased) keeps the age the listing gave it.</summary>
    private static async Task<bool> DeleteIfStillOldAsync(SessionStorage storage, string sessionId, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        long version;
        try
        {
            if (await storage.LoadMetadataAsync(sessionId, cancellationToken) is not { } head || head.UpdatedAt >= cutoff)
            {
                return false;
            }

            version = head.Version;
        }
        catch (SessionCorruptException)
        {
            return await storage.DeleteAsync(sessionId, CancellationToken.None);
        }

        try
        {
            return await storage.DeleteAsync(sessionId, version, CancellationToken.None);
        }
        catch (SessionConcurrencyException)
        {
            return false; // saved since the check: in use again
        }
    }
}
