using Microsoft.Extensions.Logging;
using Voxon.Retention;
using Voxon.Storage;

namespace Voxon;

public sealed partial class VoxonClient
{
    /// <summary>Deletes the stored sessions not updated for <paramref name="olderThan"/> (all users', or
    /// <paramref name="userId"/>'s), in batches; run it again to finish one interrupted by a crash.</summary>
    /// <param name="olderThan">Age, measured from now on the client's <see cref="TimeProvider"/>, past which a session goes.</param>
    /// <param name="userId">Only this user's sessions; null for everyone's.</param>
    /// <param name="dryRun">List what would be deleted, delete nothing.</param>
    /// <param name="cancellationToken">Cancels between deletions.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="olderThan"/> is not positive.</exception>
    public async Task<PruneResult> PruneSessionsAsync(TimeSpan olderThan, string? userId = null, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(olderThan, TimeSpan.Zero);
        if (userId is not null)
        {
            SessionIds.Validate(userId, "user id");
        }

        var result = await SessionPruner.PruneAsync(_runtime.Storage, _runtime.Time.GetUtcNow() - olderThan, userId, dryRun, cancellationToken);
        _logger.LogInformation("Pruned {Count} sessions updated before {Cutoff}{DryRun}.", result.SessionIds.Count, result.Cutoff, dryRun ? " (dry run)" : string.Empty);
        return result;
    }

    /// <summary>Throws when <paramref name="userId"/> already has <see cref="VoxonOptions.MaxSessionsPerUser"/> stored sessions.</summary>
    private async Task EnforceSessionLimitAsync(string userId, CancellationToken cancellationToken)
    {
        if (Options.MaxSessionsPerUser is { } limit && (await _runtime.Storage.ListAsync(userId, cancellationToken)).Count >= limit)
        {
            throw new SessionLimitException(userId, limit);
        }
    }
}
