using System.Text.Json;

namespace Voxon.Storage;

/// <summary>
/// The one erasure procedure every backend runs (<see cref="SessionStorage.EraseUserAsync"/>), with hooks for what only
/// a backend can count or delete. Order: count everything of the user and record that inventory in the key ring
/// (<c>erasure.USER</c>); destroy the user's wrapped data key (from then on, every copy of the user's encrypted
/// records is unreadable); delete shares (of the user's sessions, and those other users granted to the user: they
/// are sealed under the owner's key, so only deleting them removes the user's id), then sessions; run the backend's clean-up; remove the record. A crash at any
/// point leaves the record, and the next call resumes from it and reports the original inventory.
/// </summary>
internal static class UserErasure
{
    private const string MarkerPrefix = "erasure.";

    /// <summary>What a backend adds to the procedure.</summary>
    internal sealed class Hooks
    {
        /// <summary>Where the erasure record lives; null: no resumable record (custom backends).</summary>
        public KeyRingStore? Control { get; init; }

        /// <summary>The key ring whose user key is destroyed; null without encryption.</summary>
        public KeyRing? KeyRing { get; init; }

        /// <summary>Adds the backend's own kinds (files, index entries) for one stored session to the counts.</summary>
        public Func<string, Dictionary<string, int>, CancellationToken, Task>? CountStorage { get; init; }

        /// <summary>Ids of the sessions stored under the user that a listing skips as unreadable (damaged); null: none
        /// beyond the listing. They hold the user's data all the same, so they are erased too.</summary>
        public Func<string, CancellationToken, Task<IReadOnlyList<string>>>? UnlistedSessions { get; init; }

        /// <summary>The shares other users granted to the user; null finds them through every session's share listing.</summary>
        public Func<string, CancellationToken, Task<IReadOnlyList<ShareRecord>>>? SharesWithUser { get; init; }

        /// <summary>Deletes a share by token hash; null revokes it through the contract instead.</summary>
        public Func<string, CancellationToken, Task>? DeleteShare { get; init; }

        /// <summary>Removes what is left of the user after its sessions (per-user indexes), given the erased session ids.</summary>
        public Func<string, IReadOnlyList<string>, CancellationToken, Task>? Finish { get; init; }
    }

    public static async Task<ErasureReceipt> RunAsync(SessionStorage storage, string userId, Hooks hooks, ErasureOptions? options, CancellationToken cancellationToken)
    {
        SessionIds.Validate(userId, "user id");
        options ??= new ErasureOptions();
        var name = MarkerPrefix + userId;
        var resumed = hooks.Control is not null && await hooks.Control.GetAsync(name, cancellationToken) is not null;
        var marker = resumed ? Parse(storage, (await hooks.Control!.GetAsync(name, cancellationToken))!) : await InventoryAsync(storage, userId, hooks, options, cancellationToken);
        if (!resumed && hooks.Control is not null)
        {
            await hooks.Control.SetAsync(name, JsonSerializer.SerializeToUtf8Bytes(marker, VoxonJsonContext.Default.ErasureMarker), cancellationToken);
        }

        // Crypto-shredding first: whatever a crash leaves behind, or a backup holds, no longer decrypts.
        if (hooks.KeyRing is not null)
        {
            await hooks.KeyRing.DestroyUserKeyAsync(userId, cancellationToken);
        }

        foreach (var hash in marker.Shares)
        {
            if (hooks.DeleteShare is not null)
            {
                await hooks.DeleteShare(hash, cancellationToken);
            }
            else if (await storage.FindShareAsync(hash, cancellationToken) is { RevokedAt: null } share)
            {
                share.RevokedAt = options.TimeProvider.GetUtcNow();
                await storage.SaveShareAsync(share, cancellationToken);
            }
        }

        // Sessions saved since the inventory are erased too (not counted: they were not there when it was taken).
        var sessions = marker.Sessions.Union(await SessionsOfAsync(storage, userId, hooks, cancellationToken), StringComparer.Ordinal).ToList();
        for (var i = 0; i < sessions.Count; i++)
        {
            await storage.DeleteAsync(sessions[i], cancellationToken);
            options.Progress?.Report((i + 1, sessions.Count));
        }

        if (hooks.Finish is not null)
        {
            await hooks.Finish(userId, sessions, cancellationToken);
        }

        if (hooks.Control is not null)
        {
            await hooks.Control.DeleteAsync(name, cancellationToken);
        }

        return new ErasureReceipt(userId, storage.BackendName, marker.StartedAt, options.TimeProvider.GetUtcNow(), marker.Counts, resumed);
    }

    private static async Task<ErasureMarker> InventoryAsync(SessionStorage storage, string userId, Hooks hooks, ErasureOptions options, CancellationToken cancellationToken)
    {
        var marker = new ErasureMarker { UserId = userId, StartedAt = options.TimeProvider.GetUtcNow() };
        var counts = marker.Counts;
        foreach (var kind in new[] { ErasureReceipt.Sessions, ErasureReceipt.Conversations, ErasureReceipt.Turns, ErasureReceipt.Memories, ErasureReceipt.Shares, ErasureReceipt.SharesReceived, ErasureReceipt.TemplateBindings })
        {
            counts[kind] = 0;
        }

        foreach (var sessionId in await SessionsOfAsync(storage, userId, hooks, cancellationToken))
        {
            marker.Sessions.Add(sessionId);
            counts[ErasureReceipt.Sessions]++;
            if (await TryLoadAsync(storage, sessionId, cancellationToken) is { } document)
            {
                counts[ErasureReceipt.Conversations] += document.Conversations.Count;
                counts[ErasureReceipt.Turns] += document.Conversations.Sum(c => c.Turns.Count);
                counts[ErasureReceipt.Memories] += document.Memory.Entries.Count;
                counts[ErasureReceipt.TemplateBindings] += document.Template is null ? 0 : 1;
            }

            var shares = await storage.ListSharesAsync(sessionId, cancellationToken);
            marker.Shares.AddRange(shares.Select(s => s.TokenHash));
            counts[ErasureReceipt.Shares] += shares.Count;
            if (hooks.CountStorage is not null)
            {
                await hooks.CountStorage(sessionId, counts, cancellationToken);
            }
        }

        // A user's own session shared with themself was counted above.
        var granted = hooks.SharesWithUser is { } find ? await find(userId, cancellationToken) : await SharesWithUserAsync(storage, userId, cancellationToken);
        var received = granted.Where(s => s.OwnerUserId != userId).ToList();
        marker.Shares.AddRange(received.Select(s => s.TokenHash));
        counts[ErasureReceipt.SharesReceived] = received.Count;
        if (hooks.KeyRing is not null)
        {
            counts[ErasureReceipt.Keys] = await hooks.KeyRing.DataKeyAsync(await hooks.KeyRing.UserKeyIdAsync(userId, cancellationToken), cancellationToken) is null ? 0 : 1;
        }

        return marker;
    }

    /// <summary>The user's sessions: those listed, then those the backend finds stored under the user that the listing skipped.</summary>
    private static async Task<List<string>> SessionsOfAsync(SessionStorage storage, string userId, Hooks hooks, CancellationToken cancellationToken)
    {
        var listed = (await storage.ListAsync(userId, cancellationToken)).Select(s => s.SessionId);
        return hooks.UnlistedSessions is { } unlisted
            ? [.. listed.Union(await unlisted(userId, cancellationToken), StringComparer.Ordinal)]
            : [.. listed];
    }

    /// <summary>Shares granted to <paramref name="userId"/>, found through every session's listing (backends that can read
    /// their share records in one pass do that instead).</summary>
    private static async Task<IReadOnlyList<ShareRecord>> SharesWithUserAsync(SessionStorage storage, string userId, CancellationToken cancellationToken)
    {
        var shares = new List<ShareRecord>();
        foreach (var summary in await storage.ListAsync(null, cancellationToken))
        {
            shares.AddRange((await storage.ListSharesAsync(summary.SessionId, cancellationToken)).Where(s => s.SharedWithUserId == userId));
        }

        return shares;
    }

    /// <summary>The session, or null when it is unreadable (a copy restored after its key was destroyed): it is erased uncounted.</summary>
    private static async Task<SessionDocument?> TryLoadAsync(SessionStorage storage, string sessionId, CancellationToken cancellationToken)
    {
        try
        {
            return await storage.LoadAsync(sessionId, cancellationToken);
        }
        catch (SessionCorruptException)
        {
            return null;
        }
    }

    private static ErasureMarker Parse(SessionStorage storage, byte[] stored)
    {
        try
        {
            return JsonSerializer.Deserialize(stored, VoxonJsonContext.Default.ErasureMarker) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw new VoxonStorageException(storage.BackendName, "erase user", null, $"the record of an interrupted erasure is corrupt: {ex.Message}", false, ex);
        }
    }
}

/// <summary>The inventory of an erasure in progress, kept in the key ring until it completes.</summary>
internal sealed class ErasureMarker
{
    public string UserId { get; set; } = string.Empty;

    public DateTimeOffset StartedAt { get; set; }

    public Dictionary<string, int> Counts { get; set; } = new(StringComparer.Ordinal);

    public List<string> Sessions { get; set; } = [];

    public List<string> Shares { get; set; } = [];
}
