using Voxon.Storage;

namespace Voxon.Sharing;

/// <summary>What is known of a share, without its token: who shared what with whom, allowing what, until when.</summary>
public sealed record ShareInfo
{
    /// <summary>Id of the share (not secret); used to revoke it.</summary>
    public required string ShareId { get; init; }

    /// <summary>The shared session.</summary>
    public required string SessionId { get; init; }

    /// <summary>The session's owner, who shared it.</summary>
    public required string OwnerUserId { get; init; }

    /// <summary>The only user who may use the token.</summary>
    public required string SharedWithUserId { get; init; }

    /// <summary>What the holder may do (see <see cref="SharePermissions"/>).</summary>
    public required IReadOnlyList<string> Permissions { get; init; }

    /// <summary>When the share was made.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>After this instant the token is refused.</summary>
    public DateTimeOffset ExpiresAt { get; init; }

    /// <summary>When the share was revoked; null while not revoked.</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>Whether the token is accepted at <paramref name="now"/>: not revoked and not expired.</summary>
    public bool IsActiveAt(DateTimeOffset now) => RevokedAt is null && now < ExpiresAt;

    internal static ShareInfo From(ShareRecord record) => new()
    {
        ShareId = record.ShareId,
        SessionId = record.SessionId,
        OwnerUserId = record.OwnerUserId,
        SharedWithUserId = record.SharedWithUserId,
        Permissions = [.. record.Permissions],
        CreatedAt = record.CreatedAt,
        ExpiresAt = record.ExpiresAt,
        RevokedAt = record.RevokedAt,
    };
}
