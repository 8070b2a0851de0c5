using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Voxon.Events;
using Voxon.Storage;

namespace Voxon.Sharing;

/// <summary>Share records: creation, revocation, listing and token checks, used by sessions, shared views and the client.</summary>
internal static class Shares
{
    /// <summary>Longest lifetime a share may be given.</summary>
    internal static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(365);

    /// <summary>Stands in for a missing record so a forged token goes through the same comparisons as a real one.</summary>
    private static readonly ShareRecord Decoy = new()
    {
        ShareId = "share_decoy",
        SessionId = "sess_decoy",
        OwnerUserId = "decoy",
        SharedWithUserId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
        TokenHash = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
        ExpiresAt = DateTimeOffset.MinValue,
    };

    /// <summary>Lower-case hex SHA-256 of a token's UTF-8 bytes.</summary>
    internal static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    internal static async Task<SessionShare> CreateAsync(VoxonRuntime runtime, string sessionId, string ownerUserId, string sharedWithUserId, IEnumerable<string> permissions, TimeSpan expireAfter, CancellationToken cancellationToken)
    {
        SessionIds.Validate(sharedWithUserId, "user id");
        var granted = SharePermissions.Normalize(permissions);
        if (expireAfter <= TimeSpan.Zero || expireAfter > MaxLifetime)
        {
            throw new ArgumentOutOfRangeException(nameof(expireAfter), expireAfter, $"A share must expire after a positive time of at most {MaxLifetime.TotalDays:0} days.");
        }

        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var now = runtime.Time.GetUtcNow();
        var record = new ShareRecord
        {
            ShareId = SessionIds.NewId("share_"),
            SessionId = sessionId,
            OwnerUserId = ownerUserId,
            SharedWithUserId = sharedWithUserId,
            TokenHash = Hash(token),
            Permissions = granted,
            CreatedAt = now,
            ExpiresAt = now + expireAfter,
        };
        await runtime.Storage.SaveShareAsync(record, cancellationToken);
        var info = ShareInfo.From(record);
        Raise(runtime, ShareEventNames.ShareCreated, info, now);
        return new SessionShare(info, token);
    }

    /// <summary>Revokes a share of <paramref name="sessionId"/>; Found is false when it has none with that id,
    /// Revoked is the share when this call revoked it (null when it already was).</summary>
    internal static async Task<(bool Found, ShareInfo? Revoked)> RevokeAsync(VoxonRuntime runtime, string sessionId, string shareId, CancellationToken cancellationToken)
    {
        SessionIds.Validate(sessionId);
        SessionIds.Validate(shareId, "share id");
        var record = (await runtime.Storage.ListSharesAsync(sessionId, cancellationToken)).FirstOrDefault(s => s.ShareId == shareId);
        if (record is null)
        {
            return (false, null);
        }

        if (record.RevokedAt is not null)
        {
            return (true, null);
        }

        var now = runtime.Time.GetUtcNow();
        record.RevokedAt = now;
        await runtime.Storage.SaveShareAsync(record, cancellationToken);
        var info = ShareInfo.From(record);
        Raise(runtime, ShareEventNames.ShareRevoked, info, now);
        return (true, info);
    }

    internal static async Task<IReadOnlyList<ShareInfo>> ListAsync(VoxonRuntime runtime, string sessionId, CancellationToken cancellationToken)
    {
        SessionIds.Validate(sessionId);
        return [.. (await runtime.Storage.ListSharesAsync(sessionId, cancellationToken)).Select(ShareInfo.From)];
    }

    /// <summary>The share <paramref name="token"/> grants to <paramref name="userId"/> now.</summary>
    /// <remarks>Every refusal does the same work (hash, look up, compare every field in constant time, then decide)
    /// and throws the same exception, so neither the message nor the time tells a forged token from an expired,
    /// revoked or misused one.</remarks>
    /// <exception cref="InvalidShareTokenException">The token is refused.</exception>
    internal static async Task<ShareRecord> VerifyAsync(VoxonRuntime runtime, string token, string userId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(userId);
        var hash = Hash(token);
        var found = await runtime.Storage.FindShareAsync(hash, cancellationToken);
        var record = found ?? Decoy;
        var now = runtime.Time.GetUtcNow();

        // Non-short-circuit '&' so every comparison runs whatever the earlier ones found.
        var valid = found is not null;
        valid &= CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(record.TokenHash.PadRight(64)), Encoding.ASCII.GetBytes(hash));
        valid &= CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(record.SharedWithUserId)), SHA256.HashData(Encoding.UTF8.GetBytes(userId)));
        valid &= record.RevokedAt is null;
        valid &= now < record.ExpiresAt;
        return valid ? record : throw new InvalidShareTokenException();
    }

    /// <summary>The stored session <paramref name="share"/> opens, or null when it is gone or is now another user's
    /// session (an id reused after deletion or by an import): a share opens only the owner's session it was made for.</summary>
    internal static async Task<SessionDocument?> LoadSharedAsync(VoxonRuntime runtime, ShareRecord share, CancellationToken cancellationToken) =>
        await runtime.Storage.LoadAsync(share.SessionId, cancellationToken) is { } document && string.Equals(document.UserId, share.OwnerUserId, StringComparison.Ordinal)
            ? document
            : null;

    private static void Raise(VoxonRuntime runtime, string type, ShareInfo info, DateTimeOffset now) =>
        runtime.ShareEvents.Raise(new SessionEvent(type, info.SessionId, now, info));
}
