using System.Buffers.Binary;
using System.Globalization;
using StackExchange.Redis;

namespace Voxon.Storage.Redis;

/// <summary>
/// A session as four hashes sharing a hash tag (<c>PREFIX s:{ID}</c> for metadata and version, <c>:m</c> memory
/// entries, <c>:c</c> conversation headers, <c>:t</c> turns as <c>conversation/index</c>), plus per-user and global
/// sorted-set indexes by update time. A save is one MULTI/EXEC transaction conditioned on the stored version
/// (WATCH), writing only changed fields; an optional idle TTL is renewed on every save.
/// </summary>
/// <remarks>Thread-safe; one multiplexed connection.</remarks>
internal sealed partial class RedisSessionStorage(ConfigurationOptions configuration, string prefix, TimeSpan? idleTtl, SessionEncryption? encryption) : SessionStorage
{
    private const string VersionField = "version";
    private const string HeadField = "head";
    private static readonly RedisValue[] SummaryFields = ["user", "created", "updated", "conversations", "messages"];

    private SessionRecordCodec? _codecInstance;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private ConnectionMultiplexer? _connection;

    public override string BackendName => "redis";

    private SessionRecordCodec _codec => LazyInitializer.EnsureInitialized(ref _codecInstance, () => new("redis", encryption, new RedisKeyRingStore(prefix) { Storage = this }));

    private RedisKey HeadKey(string id) => $"{prefix}s:{{{id}}}";

    private RedisKey[] ContentKeys(string id) => [HeadKey(id).Append(":m"), HeadKey(id).Append(":c"), HeadKey(id).Append(":t")];

    private RedisKey UserKey(string userId) => $"{prefix}u:{userId}";

    private RedisKey SharesKey(string id) => HeadKey(id).Append(":shares");

    private RedisKey ShareKey(string tokenHash) => $"{prefix}share:{tokenHash}";

    private RedisKey AllKey => $"{prefix}sessions";

    public override Task SaveAsync(SessionDocument document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        SessionIds.Validate(document.SessionId);
        return WriteAsync(document, SessionRecords.Encode(document), replace: true, baseVersion: null);
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
            var headKey = HeadKey(id);
            var stored = await db.HashGetAsync(headKey, [VersionField, "user"]);
            var storedVersion = VersionOf(id, stored[0]);
            var allowed = baseVersion is { } required ? storedVersion == (required == 0 ? null : required) : storedVersion is null || storedVersion == head.Version - 1;
            if (!allowed)
            {
                throw new SessionConcurrencyException(BackendName, id, baseVersion ?? head.Version - 1, storedVersion);
            }

            var transaction = db.CreateTransaction();
            transaction.AddCondition(storedVersion is { } v ? Condition.HashEqual(headKey, VersionField, v) : Condition.KeyNotExists(headKey));
            var keys = ContentKeys(id);
            var pending = new List<Task>();
            if (replace)
            {
                pending.Add(transaction.KeyDeleteAsync(keys));
            }

            if (!stored[1].IsNull && stored[1] != head.UserId)
            {
                pending.Add(transaction.SortedSetRemoveAsync(UserKey(stored[1]!), id));
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
            var score = head.UpdatedAt.ToUnixTimeMilliseconds();
            pending.Add(transaction.SortedSetAddAsync(UserKey(head.UserId), id, score));
            pending.Add(transaction.SortedSetAddAsync(AllKey, id, score));
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

    /// <summary>Reads the session's hashes in one MULTI/EXEC, so a concurrent save is seen whole or not at all.</summary>
    private Task<SessionDocument?> ReadAsync(string sessionId, bool withContent) =>
        RunAsync("load", SessionIds.Validate(sessionId), async db =>
        {
            var keys = ContentKeys(sessionId);
            var transaction = db.CreateTransaction();
            var head = transaction.HashGetAsync(HeadKey(sessionId), HeadField);
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

            return await _codec.AssembleAsync(sessionId, records, withContent);
        });

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
        RunAsync("delete", SessionIds.Validate(sessionId), async db =>
        {
            var user = await db.HashGetAsync(HeadKey(sessionId), "user");
            var shares = await db.SetMembersAsync(SharesKey(sessionId));
            var transaction = db.CreateTransaction();
            var deleted = transaction.KeyDeleteAsync([HeadKey(sessionId), .. ContentKeys(sessionId)]);

            // Shares go with the session: a token must never open a later session that reuses the id.
            _ = transaction.KeyDeleteAsync([SharesKey(sessionId), .. shares.Select(h => ShareKey(h!))]);
            _ = transaction.SortedSetRemoveAsync(AllKey, sessionId);
            if (!user.IsNull)
            {
                _ = transaction.SortedSetRemoveAsync(UserKey(user!), sessionId);
            }

            await transaction.ExecuteAsync();
            return await deleted > 0;
        });

    public override Task<IReadOnlyList<SessionSummary>> ListAsync(string? userId = null, CancellationToken cancellationToken = default)
    {
        if (userId is not null)
        {
            SessionIds.Validate(userId, "user id");
        }

        return RunAsync<IReadOnlyList<SessionSummary>>("list", null, async db =>
        {
            var index = userId is null ? AllKey : UserKey(userId);
            var ids = await db.SortedSetRangeByRankAsync(index, order: Order.Descending);
            var heads = await Task.WhenAll(ids.Select(id => db.HashGetAsync(HeadKey(id!), SummaryFields)));
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

            return [.. summaries.OrderByDescending(s => s.UpdatedAt)];
        });
    }
}
