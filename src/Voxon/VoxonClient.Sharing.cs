using Voxon.Events;
using Voxon.Sharing;
using Voxon.Storage;

namespace Voxon;

public sealed partial class VoxonClient
{
    /// <summary>Share events of every session this client touches: <c>share.created</c>, <c>share.revoked</c>, <c>share.accessed</c>.</summary>
    public SessionEvents ShareEvents => _runtime.ShareEvents;

    /// <summary>Opens a shared session with its token (the spec's <c>access_shared_session</c>).</summary>
    /// <param name="shareToken">The token from <see cref="Sessions.Session.CreateSharedViewAsync"/>.</param>
    /// <param name="userId">Who is asking; must be the user the session was shared with.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A view that can do exactly what the share permits.</returns>
    /// <exception cref="InvalidShareTokenException">The token is forged, expired, revoked, or not for this user, or the
    /// session is gone or now belongs to another owner; the same exception and message in every case.</exception>
    public async Task<SharedSessionView> AccessSharedSessionAsync(string shareToken, string userId, CancellationToken cancellationToken = default)
    {
        var share = await Shares.VerifyAsync(_runtime, shareToken, userId, cancellationToken);
        var document = await Shares.LoadSharedAsync(_runtime, share, cancellationToken) ?? throw new InvalidShareTokenException();
        var view = new SharedSessionView(_runtime, share, document);
        _runtime.ShareEvents.Raise(new SessionEvent(ShareEventNames.ShareAccessed, share.SessionId, _runtime.Time.GetUtcNow(), view.Info));
        return view;
    }

    /// <summary>Revokes share <paramref name="shareId"/> of session <paramref name="sessionId"/>.</summary>
    /// <returns>True when the session has a share with that id (now revoked), false otherwise.</returns>
    /// <exception cref="ArgumentException">An id breaks the id rules.</exception>
    public async Task<bool> RevokeShareAsync(string sessionId, string shareId, CancellationToken cancellationToken = default) =>
        (await Shares.RevokeAsync(_runtime, sessionId, shareId, cancellationToken)).Found;

    /// <summary>The shares of a session, revoked and expired ones included: metadata only, never tokens.</summary>
    /// <exception cref="ArgumentException">The id breaks the id rules.</exception>
    public Task<IReadOnlyList<ShareInfo>> ListSharesAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        SessionIds.Validate(sessionId);
        return Shares.ListAsync(_runtime, sessionId, cancellationToken);
    }
}
