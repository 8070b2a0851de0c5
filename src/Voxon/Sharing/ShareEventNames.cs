namespace Voxon.Sharing;

/// <summary>Names of share events, raised on <see cref="VoxonClient.ShareEvents"/> and, for shares made or revoked
/// through a <see cref="Sessions.Session"/>, on its <see cref="Sessions.Session.Events"/> too. Data: the <see cref="ShareInfo"/> (never the token).</summary>
public static class ShareEventNames
{
    /// <summary>A share was created.</summary>
    public const string ShareCreated = "share.created";

    /// <summary>A share was revoked.</summary>
    public const string ShareRevoked = "share.revoked";

    /// <summary>A share token was used successfully.</summary>
    public const string ShareAccessed = "share.accessed";
}
