using StackExchange.Redis;

namespace Voxon.Storage.Redis;

internal sealed partial class RedisSessionStorage
{
    public override bool IsEncrypted => encryption is not null;

    public override Task<ErasureReceipt> EraseUserAsync(string userId, ErasureOptions? options = null, CancellationToken cancellationToken = default) =>
        UserErasure.RunAsync(this, userId, new UserErasure.Hooks
        {
            Control = _codec.ControlStore,
            KeyRing = _codec.KeyRing,
            CountStorage = (sessionId, counts, _) => RunAsync("erase user", sessionId, async db =>
            {
                // The session's member in the user's sorted-set index, and its locator.
                var indexed = (await db.SortedSetScoreAsync(_keys.Sessions(userId), sessionId)).HasValue ? 1 : 0;
                indexed += await db.KeyExistsAsync(_keys.SessionUser(sessionId)) ? 1 : 0;
                counts[ErasureReceipt.IndexEntries] = counts.GetValueOrDefault(ErasureReceipt.IndexEntries) + indexed;
            }),

            // Every session in the user's index, those whose summary fields a listing cannot read included.
            UnlistedSessions = (user, _) => RunAsync<IReadOnlyList<string>>("erase user", null, async db =>
                [.. (await db.SortedSetRangeByRankAsync(_keys.Sessions(user))).Select(id => (string)id!)]),
            DeleteShare = (hash, _) => RunAsync("erase user", null, async db =>
            {
                if ((string?)await db.StringGetAsync(_keys.ShareUser(hash)) is { } owner)
                {
                    await db.KeyDeleteAsync(_keys.Share(owner, hash));
                    await db.KeyDeleteAsync(_keys.ShareUser(hash));
                }
            }),
            Finish = (user, sessions, _) => RunAsync("erase user", null, async db =>
            {
                _sessionUsers.ForgetUser(user);

                // Whatever the user still owns under their tag (shares of sessions stored under another user included),
                // then the single keys that point there, then the user's place in the global set.
                var shares = (await db.SetMembersAsync(_keys.UserShares(user))).Select(h => (string)h!).ToList();
                await db.KeyDeleteAsync([_keys.Sessions(user), _keys.UserShares(user), .. sessions.Select(id => _keys.SessionShares(user, id)), .. shares.Select(h => _keys.Share(user, h))]);
                await Task.WhenAll(shares.Select(h => db.KeyDeleteAsync(_keys.ShareUser(h))));
                await db.SetRemoveAsync(_keys.Users, user);
            }),
        }, options, cancellationToken);

    public override async Task<int> RewrapKeysAsync(CancellationToken cancellationToken = default) =>
        _codec.KeyRing is { } ring ? await ring.RewrapAsync(cancellationToken) : 0;

    /// <summary>The key ring in one hash of its own, <c>PREFIX keyring</c>, apart from the session keys.</summary>
    private sealed class RedisKeyRingStore(string prefix) : KeyRingStore
    {
        public RedisSessionStorage Storage { get; set; } = null!;

        private RedisKey Key => new RedisKeys(prefix).KeyRing;

        public override Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken = default) =>
            Storage.RunAsync("read key ring", null, async db => (byte[]?)await db.HashGetAsync(Key, name), layout: false);

        public override Task<byte[]> GetOrAddAsync(string name, byte[] value, CancellationToken cancellationToken = default) =>
            Storage.RunAsync("write key ring", null, async db =>
            {
                await db.HashSetAsync(Key, name, value, When.NotExists);
                return (byte[])(await db.HashGetAsync(Key, name))!;
            }, layout: false);

        public override Task SetAsync(string name, byte[] value, CancellationToken cancellationToken = default) =>
            Storage.RunAsync("write key ring", null, db => db.HashSetAsync(Key, name, value), layout: false);

        public override Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) =>
            Storage.RunAsync("write key ring", null, db => db.HashDeleteAsync(Key, name), layout: false);

        public override Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
            Storage.RunAsync<IReadOnlyList<string>>("read key ring", null, async db =>
                [.. (await db.HashKeysAsync(Key)).Select(k => (string)k!).Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)], layout: false);
    }
}
