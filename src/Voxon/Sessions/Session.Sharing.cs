using Voxon.Sharing;

namespace Voxon.Sessions;

public sealed partial class Session
{
    /// <summary>Shares the stored session with one user (the spec's <c>create_shared_view</c>): a random 256-bit token,
    /// stored only as its SHA-256 hash, bound to <paramref name="sharedWithUserId"/>, <paramref name="permissions"/> and an expiry.</summary>
    /// <param name="sharedWithUserId">The only user who may use the token.</param>
    /// <param name="permissions">One or more of <see cref="SharePermissions"/> (<c>read</c>, <c>add_notes</c>).</param>
    /// <param name="expireAfter">Lifetime of the share, at most a year.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The share with its token; the token cannot be retrieved again.</returns>
    /// <exception cref="SessionStateException">The session is closed or has never been saved (a view reads the stored session).</exception>
    /// <exception cref="ArgumentException">Bad user id or unknown permission.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The lifetime is not positive or over a year.</exception>
    public async Task<SessionShare> CreateSharedViewAsync(string sharedWithUserId, IEnumerable<string> permissions, TimeSpan expireAfter, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ThrowIfClosed();
        }

        if (Version == 0)
        {
            throw new SessionStateException($"Session '{SessionId}' has not been saved; save it before sharing it (a shared view reads the stored session).");
        }

        var share = await Shares.CreateAsync(_runtime, SessionId, UserId, sharedWithUserId, permissions, expireAfter, cancellationToken);
        Raise(ShareEventNames.ShareCreated, share.Info);
        return share;
    }

    /// <summary>Revokes a share of this session; its token is refused from now on.</summary>
    /// <returns>True when the session has a share with that id (now revoked), false otherwise.</returns>
    public async Task<bool> RevokeShareAsync(string shareId, CancellationToken cancellationToken = default)
    {
        var (found, revoked) = await Shares.RevokeAsync(_runtime, SessionId, shareId, cancellationToken);
        if (revoked is not null)
        {
            Raise(ShareEventNames.ShareRevoked, revoked);
        }

        return found;
    }

    /// <summary>The session's shares, revoked and expired ones included: metadata only, never tokens.</summary>
    public Task<IReadOnlyList<ShareInfo>> ListSharesAsync(CancellationToken cancellationToken = default) =>
        Shares.ListAsync(_runtime, SessionId, cancellationToken);
}
