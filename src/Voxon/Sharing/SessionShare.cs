namespace Voxon.Sharing;

/// <summary>A share just created: its metadata and its token. The token is shown only here, once: Voxon stores
/// only its hash, so keep it and pass it to <see cref="VoxonClient.AccessSharedSessionAsync"/>.</summary>
/// <remarks><see cref="ToString"/> leaves the token out so it does not end up in logs.</remarks>
public sealed class SessionShare
{
    internal SessionShare(ShareInfo info, string token)
    {
        Info = info;
        Token = token;
    }

    /// <summary>The share's metadata.</summary>
    public ShareInfo Info { get; }

    /// <summary>The secret token (256 random bits, base64url).</summary>
    public string Token { get; }

    /// <summary>Id of the share, for revocation.</summary>
    public string ShareId => Info.ShareId;

    /// <inheritdoc />
    public override string ToString() => $"share {ShareId} of {Info.SessionId} with {Info.SharedWithUserId} ({string.Join(",", Info.Permissions)}) until {Info.ExpiresAt:u}";
}
