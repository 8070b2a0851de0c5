namespace Voxon.Storage;

/// <summary>A stored share of a session. The token itself is never stored: only its SHA-256 hash.</summary>
public sealed class ShareRecord
{
    /// <summary>Id of the share (not secret), used to list and revoke it.</summary>
    public required string ShareId { get; set; }

    /// <summary>The shared session.</summary>
    public required string SessionId { get; set; }

    /// <summary>The session's owner, who shared it.</summary>
    public required string OwnerUserId { get; set; }

    /// <summary>The only user who may use the token.</summary>
    public required string SharedWithUserId { get; set; }

    /// <summary>Lower-case hex SHA-256 of the token.</summary>
    public required string TokenHash { get; set; }

    /// <summary>What the holder may do (<c>read</c>, <c>add_notes</c>).</summary>
    public List<string> Permissions { get; set; } = [];

    /// <summary>When the share was made.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>After this instant the token is refused.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>When the share was revoked; null while valid.</summary>
    public DateTimeOffset? RevokedAt { get; set; }
}
