using StackExchange.Redis;

namespace Voxon.Storage.Redis;

/// <summary>
/// Moves a store written in layout 1 (each session under its own hash tag, global indexes <c>PREFIX sessions</c> and
/// <c>PREFIX u:USER</c>, shares and templates as loose keys) to the layout of <see cref="RedisKeys"/>, in place, when a
/// store is first opened. One process migrates (a lock key, renewed while it works); the others wait for the layout
/// marker. Each key is copied (DUMP/RESTORE, its TTL kept) before the old one is deleted, and the marker is written
/// last, so a migration cut short runs again from where the old keys remain. Values are moved byte for byte: sealed
/// records are bound to their session id or token hash, never to a key name.
/// </summary>
internal sealed class RedisLayoutMigration(ConnectionMultiplexer connection, string prefix, Func<string, byte[], Task<string?>> shareOwner, Action<SessionCorruptException> reportSkipped)
{
    private static readonly TimeSpan LockLifetime = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(10);

    private readonly RedisKeys _keys = new(prefix);
    private readonly IDatabase _db = connection.GetDatabase();

    /// <summary>Migrates the store unless it is on the current layout; returns the number of sessions moved.</summary>
    /// <exception cref="TimeoutException">Another process held the migration longer than <see cref="WaitLimit"/>.</exception>
    public async Task<int> RunAsync()
    {
        var token = Guid.NewGuid().ToString("N");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (await _db.StringGetAsync(_keys.Layout) == RedisKeys.CurrentLayout)
            {
                return 0;
            }

            if (await _db.LockTakeAsync(_keys.LayoutLock, token, LockLifetime))
            {
                break;
            }

            if (waited.Elapsed > WaitLimit)
            {
                throw new TimeoutException($"another process has been migrating the Redis keys under '{prefix}' for {WaitLimit.TotalMinutes} minutes");
            }

            await Task.Delay(200);
        }

        try
        {
            var moved = 0;
            foreach (var head in await ScanAsync(RedisKeys.Legacy.HeadPattern(prefix)))
            {
                // Heads only (PREFIX s:{ID}); their :m, :c, :t and :shares keys move with them.
                var name = (string)head!;
                if (name.EndsWith('}'))
                {
                    moved += await MoveSessionAsync(name[(prefix.Length + 3)..^1]) ? 1 : 0;
                    await _db.LockExtendAsync(_keys.LayoutLock, token, LockLifetime);
                }
            }

            foreach (var share in await ScanAsync(RedisKeys.Legacy.SharePattern(prefix)))
            {
                await MoveLooseShareAsync(((string)share!)[(prefix.Length + 6)..]);
            }

            foreach (var name in await _db.SetMembersAsync(RedisKeys.Legacy.Templates(prefix)))
            {
                await MoveAsync(RedisKeys.Legacy.Template(prefix, name!), _keys.Template(name!));
                await _db.SetAddAsync(_keys.Templates, name);
            }

            await _db.KeyDeleteAsync(RedisKeys.Legacy.Templates(prefix));
            foreach (var index in await ScanAsync(RedisKeys.Legacy.UserIndexPattern(prefix)))
            {
                await _db.KeyDeleteAsync(index);
            }

            await _db.KeyDeleteAsync(RedisKeys.Legacy.Sessions(prefix));
            await _db.StringSetAsync(_keys.Layout, RedisKeys.CurrentLayout);
            return moved;
        }
        finally
        {
            await _db.LockReleaseAsync(_keys.LayoutLock, token);
        }
    }

    /// <summary>Moves one session (hashes, shares, index entry) under its user's tag; false when its head names no user.</summary>
    private async Task<bool> MoveSessionAsync(string sessionId)
    {
        var old = RedisKeys.Legacy.Head(prefix, sessionId);
        var fields = await _db.HashGetAsync(old, ["user", "updated"]);
        var user = (string?)fields[0];
        if (!SessionIds.IsValid(user))
        {
            reportSkipped(new SessionCorruptException("redis", sessionId, $"the 'user' field {SessionIds.Describe(user)}; the session is left under its old key"));
            return false;
        }

        var ttl = await _db.KeyTimeToLiveAsync(old);
        var shares = await _db.SetMembersAsync(old.Append(":shares"));
        foreach (var hash in shares)
        {
            await MoveShareAsync(hash!, user!);
        }

        foreach (var (from, to) in new[] { ":m", ":c", ":t", ":shares" }.Select(s => (old.Append(s), _keys.Head(user!, sessionId).Append(s))))
        {
            await MoveAsync(from, to);
        }

        // The locator and the user before the head: once the head moves, the session is reachable.
        await _db.StringSetAsync(_keys.SessionUser(sessionId), user, ttl, When.Always);
        await _db.SetAddAsync(_keys.Users, user);
        await _db.SortedSetAddAsync(_keys.Sessions(user!), sessionId, fields[1].TryParse(out long updated) ? updated : 0);
        await MoveAsync(old, _keys.Head(user!, sessionId));
        return true;
    }

    private async Task MoveShareAsync(string tokenHash, string user)
    {
        await _db.StringSetAsync(_keys.ShareUser(tokenHash), user);
        await _db.SetAddAsync(_keys.UserShares(user), tokenHash);
        await MoveAsync(RedisKeys.Legacy.Share(prefix, tokenHash), _keys.Share(user, tokenHash));
    }

    /// <summary>A share no session lists (saved before its session, or left by a crash): it goes to its owner, read from
    /// the record itself.</summary>
    private async Task MoveLooseShareAsync(string tokenHash)
    {
        if ((byte[]?)await _db.StringGetAsync(RedisKeys.Legacy.Share(prefix, tokenHash)) is not { } data)
        {
            return;
        }

        if (await shareOwner(tokenHash, data) is { } owner && SessionIds.IsValid(owner))
        {
            await MoveShareAsync(tokenHash, owner);
        }
        else
        {
            reportSkipped(new SessionCorruptException("redis", "share/" + tokenHash, "the share names no readable owner; it is left under its old key"));
        }
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/> with its TTL, then deletes it (keys may lie on
    /// different cluster nodes, so no RENAME).</summary>
    private async Task MoveAsync(RedisKey from, RedisKey to)
    {
        if ((byte[]?)await _db.KeyDumpAsync(from) is not { } dump)
        {
            return;
        }

        var ttl = await _db.KeyTimeToLiveAsync(from);
        await _db.ExecuteAsync("RESTORE", to, ttl is { } t ? (long)Math.Max(1, t.TotalMilliseconds) : 0, dump, "REPLACE");
        await _db.KeyDeleteAsync(from);
    }

    /// <summary>Keys matching <paramref name="pattern"/> on every primary (one server, or each node of a cluster).</summary>
    private async Task<List<RedisKey>> ScanAsync(string pattern)
    {
        var keys = new List<RedisKey>();
        foreach (var server in connection.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            await foreach (var key in server.KeysAsync(_db.Database, pattern, pageSize: 1000))
            {
                keys.Add(key);
            }
        }

        return keys;
    }
}
