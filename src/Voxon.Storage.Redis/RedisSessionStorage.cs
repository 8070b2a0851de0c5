using System.Buffers.Binary;
using System.Globalization;
using StackExchange.Redis;

namespace Voxon.Storage.Redis;

/// <summary>
/// A session as four hashes under its user's hash tag (<c>PREFIX{USER}:s:ID</c> for metadata and version, <c>:m</c>
/// memory entries, <c>:c</c> conversation headers, <c>:t</c> turns as <c>conversation/index</c>), plus the user's
/// sorted-set index by update time (<see cref="RedisKeys"/>). A save is one MULTI/EXEC transaction in the user's slot,
/// conditioned on the stored version (WATCH), writing only changed fields; an optional idle TTL is renewed on every
/// save. Works on a single server and on Redis Cluster alike.
/// </summary>
/// <remarks>Thread-safe; one multiplexed connection.</remarks>
internal sealed partial class RedisSessionStorage(ConfigurationOptions configuration, string prefix, TimeSpan? idleTtl, SessionEncryption? encryption) : SessionStorage
{
    private const string VersionField = "version";
    private const string HeadField = "head";
    private static readonly RedisValue[] SummaryFields = ["user", "created", "updated", "conversations", "messages"];

    private SessionRecordCodec? _codecInstance;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly SemaphoreSlim _layoutGate = new(1, 1);
    private volatile bool _layoutReady;
    private ConnectionMultiplexer? _connection;

    public override string BackendName => "redis";

    private SessionRecordCodec _codec => LazyInitializer.EnsureInitialized(ref _codecInstance, () => new("redis", encryption, new RedisKeyRingStore(prefix) { Storage = this }));

    private readonly RedisKeys _keys = new(prefix);

    private readonly RedisSessionUsers _sessionUsers = new();

    public override Task SaveAsync(SessionDocument document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        SessionIds.Validate(document.SessionId);
        return WriteAsync(document, SessionRecords.Encode(document), replace: true, baseVersion: null);
    }

    public override Task CreateAsync(SessionDocument document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        SessionIds.Validate(document.SessionId);
        return WriteAsync(document, SessionRecords.Encode(document), replace: true, baseVersion: 0);
    }

    public override Task SaveChangesAsync(SessionChangeSet changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        SessionIds.Validate(changes.SessionId);
        return changes.BaseVersion == 0 || _codec.TakeRewrite(changes.SessionId)
            ? WriteAsync(changes.ToDocument(), SessionRecords.Encode(changes.ToDocument()), replace: true, changes.BaseVersion)
            : WriteAsync(changes.Head, SessionRecords.Encode(changes), replace: false, changes.BaseVersion);
    }

    /// <param name="head">The session's metadata.</param>
    /// <param name="records">What to write.</param>
    /// <param name="replace">Delete the stored content first (full save).</param>
    /// <param name="baseVersion">The stored version required; null for a full save (absent or <c>version - 1</c>).</param>
    private async Task WriteAsync(SessionDocument head, List<SessionRecord> records, bool replace, long? baseVersion)
    {
        var key = await _codec.KeyForAsync(head.UserId, "save");
        await RunAsync("save", head.SessionId, async db =>
        {
            var id = head.SessionId;
            var user = head.UserId;
            var headKey = _keys.Head(user, id);
            var locatorRead = db.StringGetAsync(_keys.SessionUser(id));
            var storedRead = db.HashGetAsync(headKey, [VersionField]);
            var located = (string?)await locatorRead;
            var storedVersion = VersionOf(id, (await storedRead)[0]);

            // Stored under another user before: the version to check is that copy's, and the copy goes once this one is written.
            string? previousUser = null;
            if (located is not null && located != user && VersionOf(id, await db.HashGetAsync(_keys.Head(located, id), VersionField)) is { } previous)
            {
                (previousUser, storedVersion) = (located, previous);
                if (!replace)
                {
                    throw new VoxonStorageException(BackendName, "save", id, $"the session is stored under another user ('{located}'); save it in full to move it");
                }
            }

            var allowed = baseVersion is { } required ? storedVersion == (required == 0 ? null : required) : storedVersion is null || storedVersion == head.Version - 1;
            if (!allowed)
            {
                throw new SessionConcurrencyException(BackendName, id, baseVersion ?? head.Version - 1, storedVersion);
            }

            // The locator and the global set of users first: whatever the transaction then writes is reachable.
            if (located != user)
            {
                await Task.WhenAll(db.StringSetAsync(_keys.SessionUser(id), user, idleTtl, When.Always), db.SetAddAsync(_keys.Users, user));
            }
            else if (idleTtl is { } renew)
            {
                _ = db.KeyExpireAsync(_keys.SessionUser(id), renew, CommandFlags.FireAndForget);
            }

            var transaction = db.CreateTransaction();
            transaction.AddCondition(storedVersion is { } v && previousUser is null ? Condition.HashEqual(headKey, VersionField, v) : Condition.KeyNotExists(headKey));
            var keys = _keys.Content(user, id);
            var pending = new List<Task>();
            if (replace)
            {
                pending.Add(transaction.KeyDeleteAsync(keys));
            }

            pending.Add(transaction.HashSetAsync(headKey,
            [
                new(VersionField, head.Version),
                new(HeadField, _codec.Seal(records[0], id, key).Payload),
                new("user", head.UserId),
                new("created", head.CreatedAt.ToUnixTimeMilliseconds()),
                new("updated", head.UpdatedAt.ToUnixTimeMilliseconds()),
                new("conversations", head.Analytics.ConversationCount),
                new("messages", head.Analytics.MessageCount),
            ]));
            QueueRecords(transaction, pending, id, keys, records, key);
            pending.Add(transaction.SortedSetAddAsync(_keys.Sessions(user), id, head.UpdatedAt.ToUnixTimeMilliseconds()));
            if (idleTtl is { } ttl)
            {
                pending.Add(transaction.KeyExpireAsync(headKey, ttl));
                pending.AddRange(keys.Select(k => transaction.KeyExpireAsync(k, ttl)));
            }

            if (!await transaction.ExecuteAsync())
            {
                var now = await db.HashGetAsync(headKey, VersionField);
                throw new SessionConcurrencyException(BackendName, id, baseVersion ?? head.Version - 1, VersionOf(id, now));
            }

            await Task.WhenAll(pending);
            _sessionUsers.Remember(id, user);
            if (previousUser is not null)
            {
                await DeleteStoredAsync(db, previousUser, id, keepLocator: true);
            }
        });
    }

    private void QueueRecords(ITransaction transaction, List<Task> pending, string id, RedisKey[] keys, List<SessionRecord> records, SealingKey? key)
    {
        var memories = new List<HashEntry>();
        var removed = new List<RedisValue>();
        var conversations = new List<HashEntry>();
        var turns = new List<HashEntry>();
        foreach (var record in records.Skip(1))
        {
            switch (record.Kind)
            {
                case RecordKind.Memory:
                    memories.Add(new(record.Key, _codec.Seal(record, id, key).Payload));
                    break;
                case RecordKind.MemoryRemoved:
                    removed.Add(record.Key);
                    break;
                case RecordKind.Conversation:
                    var sealedHeader = _codec.Seal(record, id, key).Payload;
                    var value = new byte[4 + sealedHeader.Length];
                    BinaryPrimitives.WriteInt32LittleEndian(value, record.Index);
                    sealedHeader.CopyTo(value, 4);
                    conversations.Add(new(record.Key, value));
                    break;
                case RecordKind.Turn:
                    turns.Add(new($"{record.Key}/{record.Index.ToString(CultureInfo.InvariantCulture)}", _codec.Seal(record, id, key).Payload));
                    break;
            }
        }

        if (memories.Count > 0)
        {
            pending.Add(transaction.HashSetAsync(keys[0], [.. memories]));
        }

        if (removed.Count > 0)
        {
            pending.Add(transaction.HashDeleteAsync(keys[0], [.. removed]));
        }

        if (conversations.Count > 0)
        {
            pending.Add(transaction.HashSetAsync(keys[1], [.. conversations]));
        }

        if (turns.Count > 0)
        {
            pending.Add(transaction.HashSetAsync(keys[2], [.. turns]));
        }
    }

    public override Task<SessionDocument?> LoadAsync(string sessionId, CancellationToken cancellationToken = default) => ReadAsync(sessionId, withContent: true);

    public override Task<SessionDocument?> LoadMetadataAsync(string sessionId, CancellationToken cancellationToken = default) => ReadAsync(sessionId, withContent: false);

    /// <summary>Reads the session's hashes in one MULTI/EXEC, so a concurrent save is seen whole or not at all. The
    /// user is the one this store last saw the session under, when it has seen it: the locator is read only when that
    /// user has no copy.</summary>
    private Task<SessionDocument?> ReadAsync(string sessionId, bool withContent) =>
        RunAsync("load", SessionIds.Validate(sessionId), async db =>
        {
            var user = _sessionUsers.Find(sessionId);
            var records = user is null ? null : await ReadStoredAsync(db, user, sessionId, withContent);
            if (records is null)
            {
                _sessionUsers.Forget(sessionId);
                user = (string?)await db.StringGetAsync(_keys.SessionUser(sessionId));
                records = user is null ? null : await ReadStoredAsync(db, user, sessionId, withContent);
                if (records is null)
                {
                    return null;
                }
            }

            _sessionUsers.Remember(sessionId, user!);
            return await _codec.AssembleAsync(sessionId, records, withContent);
        });

    /// <summary>The records of <paramref name="user"/>'s copy of a session; null when that user has none.</summary>
    private async Task<List<SessionRecord>?> ReadStoredAsync(IDatabase db, string user, string sessionId, bool withContent)
    {
        var keys = _keys.Content(user, sessionId);
        var transaction = db.CreateTransaction();
        var head = transaction.HashGetAsync(_keys.Head(user, sessionId), HeadField);
        var conversations = transaction.HashGetAllAsync(keys[1]);
        var memories = withContent ? transaction.HashGetAllAsync(keys[0]) : Task.FromResult<HashEntry[]>([]);
        var turns = withContent ? transaction.HashGetAllAsync(keys[2]) : Task.FromResult<HashEntry[]>([]);
        await transaction.ExecuteAsync();
        var headBytes = (byte[]?)await head;
        if (headBytes is null)
        {
            return null;
        }

        var records = new List<SessionRecord> { new(RecordKind.Head, string.Empty, 0, headBytes) };
        foreach (var e in await conversations)
        {
            var value = (byte[])e.Value!;
            records.Add(value.Length >= 4
                ? new SessionRecord(RecordKind.Conversation, e.Name!, BinaryPrimitives.ReadInt32LittleEndian(value), value[4..])
                : throw new SessionCorruptException(BackendName, sessionId, $"conversation field '{e.Name}' is {value.Length} bytes, too short for its header"));
        }

        records.AddRange((await memories).Select(e => new SessionRecord(RecordKind.Memory, e.Name!, 0, (byte[])e.Value!)));
        foreach (var e in await turns)
        {
            var field = (string)e.Name!;
            var slash = field.LastIndexOf('/');
            records.Add(slash > 0 && int.TryParse(field.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                ? new SessionRecord(RecordKind.Turn, field[..slash], index, (byte[])e.Value!)
                : throw new SessionCorruptException(BackendName, sessionId, $"turn field '{field}' is not 'conversation/index'"));
        }

        return records;
    }

    /// <summary>A session's summary from its head fields (user, created, updated, conversations, messages).</summary>
    /// <exception cref="SessionCorruptException">A field is missing or malformed.</exception>
    private SessionSummary Summary(string id, RedisValue[] h)
    {
        var user = (string?)h[0];
        if (!SessionIds.IsValid(user))
        {
            throw new SessionCorruptException(BackendName, id, $"the 'user' field {SessionIds.Describe(user)}");
        }

        return new SessionSummary(id, user!, Time(id, "created", h[1]), Time(id, "updated", h[2]), Count(id, "conversations", h[3]), Count(id, "messages", h[4]));
    }

    private DateTimeOffset Time(string id, string field, RedisValue value) =>
        value.TryParse(out long ms) && ms >= DateTimeOffset.MinValue.ToUnixTimeMilliseconds() && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : throw new SessionCorruptException(BackendName, id, $"the '{field}' field is not a time in Unix milliseconds");

    private int Count(string id, string field, RedisValue value) =>
        value.TryParse(out int count) && count >= 0 ? count : throw new SessionCorruptException(BackendName, id, $"the '{field}' field is not a count");

    /// <summary>The stored version; null when the session is not stored.</summary>
    /// <exception cref="SessionCorruptException">The version field is not a positive number.</exception>
    private long? VersionOf(string id, RedisValue value) =>
        value.IsNull ? null
        : value.TryParse(out long version) && version > 0 ? version
        : throw new SessionCorruptException(BackendName, id, "the 'version' field is not a positive number");

    public override Task<bool> DeleteAsync(string sessionId, CancellationToken cancellationToken = default) =>
        DeleteAsync(sessionId, null);

    public override Task<bool> DeleteAsync(string sessionId, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expectedVersion);
        return DeleteAsync(sessionId, (long?)expectedVersion);
    }

    private Task<bool> DeleteAsync(string sessionId, long? expectedVersion) =>
        RunAsync("delete", SessionIds.Validate(sessionId), async db =>
        {
            _sessionUsers.Forget(sessionId);
            return (string?)await db.StringGetAsync(_keys.SessionUser(sessionId)) is { } user && await DeleteStoredAsync(db, user, sessionId, keepLocator: false, expectedVersion);
        });

    /// <summary>Deletes <paramref name="user"/>'s copy of a session in one transaction of the user's slot, then the
    /// single keys that point to it (share locators; the session locator unless it now points elsewhere). With an
    /// expected version, the transaction runs only while that version is stored.</summary>
    private async Task<bool> DeleteStoredAsync(IDatabase db, string user, string sessionId, bool keepLocator, long? expectedVersion = null)
    {
        var shares = (await db.SetMembersAsync(_keys.SessionShares(user, sessionId))).Select(h => (string)h!).ToList();
        var transaction = db.CreateTransaction();
        var headKey = _keys.Head(user, sessionId);
        if (expectedVersion is { } expected)
        {
            transaction.AddCondition(Condition.HashEqual(headKey, VersionField, expected));
        }

        var deleted = transaction.KeyDeleteAsync([headKey, .. _keys.Content(user, sessionId)]);

        // Shares go with the session: a token must never open a later session that reuses the id.
        _ = transaction.KeyDeleteAsync([_keys.SessionShares(user, sessionId), .. shares.Select(h => _keys.Share(user, h))]);
        if (shares.Count > 0)
        {
            _ = transaction.SetRemoveAsync(_keys.UserShares(user), [.. shares.Select(h => (RedisValue)h)]);
        }

        _ = transaction.SortedSetRemoveAsync(_keys.Sessions(user), sessionId);
        if (!await transaction.ExecuteAsync())
        {
            // Saved (or deleted) since the version was read: nothing was deleted.
            return VersionOf(sessionId, await db.HashGetAsync(headKey, VersionField)) is { } stored
                ? throw new SessionConcurrencyException(BackendName, "delete", sessionId, expectedVersion!.Value, stored)
                : false;
        }

        // One DEL per key: in a cluster the locators lie in other slots.
        await Task.WhenAll(shares.Select(h => DeleteLocatorAsync(db, _keys.ShareUser(h), user)));
        if (!keepLocator)
        {
            await DeleteLocatorAsync(db, _keys.SessionUser(sessionId), user);
        }

        return await deleted > 0;
    }

    /// <summary>Deletes a locator if it still names <paramref name="user"/> (a concurrent save elsewhere may have moved it).</summary>
    private static Task DeleteLocatorAsync(IDatabase db, RedisKey locator, string user) =>
        db.ScriptEvaluateAsync(DeleteIfEqualScript, [locator], [user]);

    /// <summary>Compare-and-delete of one key (servers before Redis 8.4 have no such command).</summary>
    private const string DeleteIfEqualScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

    public override Task<IReadOnlyList<SessionSummary>> ListAsync(string? userId = null, CancellationToken cancellationToken = default)
    {
        if (userId is not null)
        {
            SessionIds.Validate(userId, "user id");
        }

        // Across users: every user's index, read in one pipeline (a global index could never share a slot with them all).
        return RunAsync<IReadOnlyList<SessionSummary>>("list", null, async db =>
        {
            var users = userId is null ? [.. (await db.SetMembersAsync(_keys.Users)).Select(u => (string)u!)] : new[] { userId };
            var lists = await Task.WhenAll(users.Select(u => ListUserAsync(db, u)));
            return [.. lists.SelectMany(l => l).OrderByDescending(s => s.UpdatedAt)];
        });
    }

    private async Task<List<SessionSummary>> ListUserAsync(IDatabase db, string userId)
    {
        var index = _keys.Sessions(userId);
        var ids = await db.SortedSetRangeByRankAsync(index, order: Order.Descending);
        var heads = await Task.WhenAll(ids.Select(id => db.HashGetAsync(_keys.Head(userId, id!), SummaryFields)));
        var summaries = new List<SessionSummary>();
        for (var i = 0; i < ids.Length; i++)
        {
            var h = heads[i];
            if (h.All(v => v.IsNull))
            {
                _ = db.SortedSetRemoveAsync(index, ids[i], CommandFlags.FireAndForget); // expired (idle TTL)
                continue;
            }

            // One bad session is skipped and reported; it never breaks the listing or silently leaves the index.
            try
            {
                summaries.Add(Summary(ids[i]!, h));
            }
            catch (SessionCorruptException ex)
            {
                ReportSkipped(ex);
            }
        }

        return summaries;
    }
}
