using Microsoft.Extensions.Logging;
using Voxon.Storage;

namespace Voxon;

public sealed partial class VoxonClient
{
    /// <summary>
    /// Erases every stored record of <paramref name="userId"/> (sessions, conversations, memories, shares, template
    /// bindings, journals, snapshots, index entries) and, with encryption on, destroys the user's data key first so that
    /// copies taken before (backups) no longer decrypt. Other users are untouched. A second call returns a receipt of
    /// zeros; a call interrupted by a crash is completed by the next one.
    /// </summary>
    /// <remarks>Sessions of the user still open in this or another process are not closed: saving one afterwards stores
    /// it again. Close them before erasing.</remarks>
    /// <returns>What was erased, by kind, with the backend and the time.</returns>
    /// <exception cref="ArgumentException">The user id breaks the id rules.</exception>
    /// <exception cref="VoxonStorageException">The backend failed; call again to resume.</exception>
    public async Task<ErasureReceipt> EraseUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        SessionIds.Validate(userId, "user id");
        var receipt = await _runtime.Storage.EraseUserAsync(userId, new ErasureOptions { TimeProvider = _runtime.Time }, cancellationToken);
        _logger.LogInformation("Erased user {UserId} from {Backend}: {Sessions} sessions, {Memories} memories, {Shares} shares{Resumed}.",
            userId, receipt.Backend, receipt[ErasureReceipt.Sessions], receipt[ErasureReceipt.Memories], receipt[ErasureReceipt.Shares], receipt.Resumed ? " (resumed)" : string.Empty);
        return receipt;
    }
}
