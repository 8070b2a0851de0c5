using Npgsql;

namespace Voxon.Storage.Postgres;

/// <summary>
/// Sessions as rows: <c>voxon_sessions</c> (metadata, version, sealed head), <c>voxon_memories</c>,
/// <c>voxon_conversations</c> and <c>voxon_turns</c>, one row per memory, conversation header and turn, so a save
/// writes only the changed rows in one transaction guarded by the version column. Creates and migrates its tables on
/// first use under an advisory lock, so processes starting together do not race.
/// </summary>
/// <remarks>
/// The tables are hash-partitioned by <c>user_id</c>, which leads every key (<see cref="PostgresSchema"/>). Statements
/// name the user whenever they can, so that they touch one partition (and, under Citus, one shard): a save gives the
/// user's id, and a read by session id finds it with a subquery on the sessions table that run-time pruning resolves.
/// A session id stays unique across users: the first save of an id holds an advisory lock on it while it looks.
/// </remarks>
/// <remarks>Thread-safe; pooled connections via one <see cref="NpgsqlDataSource"/>.</remarks>
internal sealed partial class PostgresSessionStorage : SessionStorage
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _schema;
    private readonly SessionRecordCodec _codec;
    private readonly SemaphoreSlim _migrateGate = new(1, 1);
    private volatile bool _migrated;
    private readonly string _loadSql;
    private readonly string _loadMetadataSql;

    public PostgresSessionStorage(string connectionString, string schema, SessionEncryption? encryption)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _schema = schema;
        _codec = new SessionRecordCodec("postgresql", encryption, new PostgresKeyRingStore(this));
        _loadSql = LoadSql(S, withContent: true);
        _loadMetadataSql = LoadSql(S, withContent: false);
    }

    public override string BackendName => "postgresql";

    private string S => '"' + _schema + '"';

    /// <summary>The condition on <c>user_id, session_id = $1</c> for a session whose user is not known: the subquery
    /// finds it, and run-time pruning then reads one partition.</summary>
    private string OfSession => $"user_id = (SELECT user_id FROM {S}.voxon_sessions WHERE session_id = $1) AND session_id = $1";

    public override Task SaveAsync(SessionDocument document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        SessionIds.Validate(document.SessionId);
        return WriteAsync(document, SessionRecords.Encode(document), replace: true, cancellationToken);
    }

    public override Task CreateAsync(SessionDocument document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        SessionIds.Validate(document.SessionId);
        return WriteAsync(document, SessionRecords.Encode(document), replace: true, cancellationToken, baseVersion: 0);
    }

    public override Task SaveChangesAsync(SessionChangeSet changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        SessionIds.Validate(changes.SessionId);
        return changes.BaseVersion == 0 || _codec.TakeRewrite(changes.SessionId)
            ? WriteAsync(changes.ToDocument(), SessionRecords.Encode(changes.ToDocument()), replace: true, cancellationToken, changes.BaseVersion)
            : WriteAsync(changes.Head, SessionRecords.Encode(changes), replace: false, cancellationToken, changes.BaseVersion);
    }

    /// <summary>One transaction: claim the version (or fail), then write the records in one batch.</summary>
    /// <param name="head">The session's metadata.</param>
    /// <param name="records">What to write.</param>
    /// <param name="replace">Delete the session's memory and conversations first (full save).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <param name="baseVersion">The stored version required; null for a full save (absent or <c>version - 1</c>).</param>
    private async Task WriteAsync(SessionDocument head, List<SessionRecord> records, bool replace, CancellationToken cancellationToken, long? baseVersion = null)
    {
        var key = await _codec.KeyForAsync(head.UserId, "save", cancellationToken);
        await RunAsync("save", head.SessionId, async connection =>
        {
            var id = head.SessionId;
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var claimed = await ClaimVersionAsync(connection, transaction, head, _codec.Seal(records[0], id, key).Payload, baseVersion, cancellationToken);
            if (claimed is { } actual)
            {
                await transaction.RollbackAsync(cancellationToken);
                throw new SessionConcurrencyException(BackendName, id, baseVersion ?? head.Version - 1, actual < 0 ? null : actual);
            }

            await using var batch = new NpgsqlBatch(connection, transaction);
            if (replace)
            {
                batch.BatchCommands.Add(Command($"DELETE FROM {S}.voxon_memories WHERE user_id = $1 AND session_id = $2", head.UserId, id));
                batch.BatchCommands.Add(Command($"DELETE FROM {S}.voxon_conversations WHERE user_id = $1 AND session_id = $2", head.UserId, id));
            }

            AddRecordCommands(batch, head.UserId, id, records, key);
            if (batch.BatchCommands.Count > 0)
            {
                await batch.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        });
    }

    /// <summary>Moves the session row to <c>head.Version</c> when the stored version allows it; returns null on
    /// success, else the stored version (-1 when the session is not stored).</summary>
    /// <remarks>An incremental save updates the row in the user's partition. A full save (first save, import, rewrite)
    /// first looks for the id under any user, holding an advisory lock on it: the id stays unique across partitions, and
    /// a session saved under another user than before moves (its old rows go, the full save writes the new ones). No row
    /// lock (a multi-shard <c>FOR UPDATE</c> would not run under Citus): the writes check the version they looked at.</remarks>
    private async Task<long?> ClaimVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, SessionDocument head, byte[] sealedHead, long? baseVersion, CancellationToken cancellationToken)
    {
        var id = head.SessionId;
        var values = new object[] { head.UserId, id, head.Version, head.CreatedAt.ToUniversalTime(), head.UpdatedAt.ToUniversalTime(), head.Analytics.ConversationCount, head.Analytics.MessageCount, sealedHead };
        const string Set = "version = $3, created_at = $4, updated_at = $5, conversation_count = $6, message_count = $7, head = $8";
        string sql;
        if (baseVersion is > 0)
        {
            sql = $"UPDATE {S}.voxon_sessions SET {Set} WHERE user_id = $1 AND session_id = $2 AND version = $3 - 1";
        }
        else
        {
            await using var look = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    Command($"SELECT pg_advisory_xact_lock({PostgresSchema.LockKey + 1}, hashtext($1))", id),
                    Command($"SELECT user_id, version FROM {S}.voxon_sessions WHERE session_id = $1", id),
                },
            };
            (string User, long Version)? stored = null;
            await using (var reader = await look.ExecuteReaderAsync(cancellationToken))
            {
                await reader.NextResultAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken))
                {
                    stored = (reader.GetString(0), reader.GetInt64(1));
                }
            }

            if (stored is { } found && (baseVersion == 0 || found.Version != head.Version - 1))
            {
                return found.Version;
            }

            if (stored is { } moved && moved.User != head.UserId)
            {
                // Only the version looked at: an incremental save that won meanwhile makes this one stale.
                await using var delete = new NpgsqlCommand($"DELETE FROM {S}.voxon_sessions WHERE user_id = $1 AND session_id = $2 AND version = $3", connection, transaction);
                delete.Parameters.Add(new NpgsqlParameter { Value = moved.User });
                delete.Parameters.Add(new NpgsqlParameter { Value = id });
                delete.Parameters.Add(new NpgsqlParameter { Value = moved.Version });
                if (await delete.ExecuteNonQueryAsync(cancellationToken) == 0)
                {
                    return moved.Version;
                }

                stored = null;
            }

            sql = stored is null
                ? $"INSERT INTO {S}.voxon_sessions (user_id, session_id, version, created_at, updated_at, conversation_count, message_count, head) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                : $"UPDATE {S}.voxon_sessions SET {Set} WHERE user_id = $1 AND session_id = $2 AND version = $3 - 1";
        }

        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        {
            foreach (var value in values)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value });
            }

            if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                return null;
            }
        }

        await using var read = new NpgsqlCommand($"SELECT version FROM {S}.voxon_sessions WHERE session_id = $1", connection, transaction) { Parameters = { new() { Value = id } } };
        return await read.ExecuteScalarAsync(cancellationToken) is long version ? version : -1;
    }

    private void AddRecordCommands(NpgsqlBatch batch, string userId, string id, List<SessionRecord> records, SealingKey? key)
    {
        var sealedRecords = records.Skip(1).Select(r => r.Kind == RecordKind.MemoryRemoved ? r : _codec.Seal(r, id, key)).ToList();
        var memories = sealedRecords.Where(r => r.Kind == RecordKind.Memory).ToList();
        if (memories.Count > 0)
        {
            batch.BatchCommands.Add(Command(
                $"INSERT INTO {S}.voxon_memories (user_id, session_id, memory_id, data) SELECT $1, $2, * FROM unnest($3::text[], $4::bytea[]) ON CONFLICT (user_id, session_id, memory_id) DO UPDATE SET data = excluded.data",
                userId, id, memories.Select(r => r.Key).ToArray(), memories.Select(r => r.Payload).ToArray()));
        }

        var removed = sealedRecords.Where(r => r.Kind == RecordKind.MemoryRemoved).Select(r => r.Key).ToArray();
        if (removed.Length > 0)
        {
            batch.BatchCommands.Add(Command($"DELETE FROM {S}.voxon_memories WHERE user_id = $1 AND session_id = $2 AND memory_id = ANY($3)", userId, id, removed));
        }

        var conversations = sealedRecords.Where(r => r.Kind == RecordKind.Conversation).ToList();
        if (conversations.Count > 0)
        {
            batch.BatchCommands.Add(Command(
                $"INSERT INTO {S}.voxon_conversations (user_id, session_id, conversation_id, ordinal, header) SELECT $1, $2, * FROM unnest($3::text[], $4::integer[], $5::bytea[]) ON CONFLICT (user_id, session_id, conversation_id) DO UPDATE SET ordinal = excluded.ordinal, header = excluded.header",
                userId, id, conversations.Select(r => r.Key).ToArray(), conversations.Select(r => r.Index).ToArray(), conversations.Select(r => r.Payload).ToArray()));
        }

        var turns = sealedRecords.Where(r => r.Kind == RecordKind.Turn).ToList();
        if (turns.Count > 0)
        {
            batch.BatchCommands.Add(Command(
                $"INSERT INTO {S}.voxon_turns (user_id, session_id, conversation_id, turn_index, data) SELECT $1, $2, * FROM unnest($3::text[], $4::integer[], $5::bytea[]) ON CONFLICT (user_id, session_id, conversation_id, turn_index) DO UPDATE SET data = excluded.data",
                userId, id, turns.Select(r => r.Key).ToArray(), turns.Select(r => r.Index).ToArray(), turns.Select(r => r.Payload).ToArray()));
        }
    }

    public override Task<SessionDocument?> LoadAsync(string sessionId, CancellationToken cancellationToken = default) => ReadAsync(sessionId, withContent: true, cancellationToken);

    public override Task<SessionDocument?> LoadMetadataAsync(string sessionId, CancellationToken cancellationToken = default) => ReadAsync(sessionId, withContent: false, cancellationToken);

    /// <summary>Reads the session's rows with one statement (so in one snapshot, without a transaction) in one round
    /// trip. Each row's bytes are copied once, from the driver's buffer to where the load decodes them (a batch of memory
    /// records decoded on the thread pool while the next rows arrive), never into an array of their own.</summary>
    private Task<SessionDocument?> ReadAsync(string sessionId, bool withContent, CancellationToken cancellationToken)
    {
        var id = SessionIds.Validate(sessionId);
        return RunAsync("load", id, async connection =>
        {
            await using var command = new NpgsqlCommand(withContent ? _loadSql : _loadMetadataSql, connection) { Parameters = { new() { Value = id } } };
            await using var load = new RecordLoad(_codec, id, withContent);
            var hasHead = false;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var kind = (RecordKind)reader.GetInt32(0);
                    var stored = load.Reserve(kind, (int)reader.GetBytes(3, 0, null, 0, 0));
                    reader.GetBytes(3, 0, stored.Array, stored.Offset, stored.Count);
                    if (load.KeyToFetch(stored) is { } keyId)
                    {
                        await load.FetchKeyAsync(keyId, cancellationToken);
                    }

                    // A plaintext memory record names its memory itself: the row's key is only read to authenticate a sealed one.
                    var key = kind == RecordKind.Memory && !SessionEncryption.IsEnvelope(stored) ? string.Empty : reader.GetString(1);
                    load.Add(kind, key, reader.GetInt32(2), stored);
                    hasHead |= kind == RecordKind.Head;
                }
            }

            return hasHead ? await load.BuildAsync() : null;
        });
    }

    /// <summary>The statement of a load: every record as (kind, key, index, bytes), the session's user found once.</summary>
    internal static string LoadSql(string schema, bool withContent)
    {
        const string of = "user_id = (SELECT user_id FROM s) AND session_id = $1";
        var sql = $"WITH s AS (SELECT user_id, head FROM {schema}.voxon_sessions WHERE session_id = $1) SELECT {(int)RecordKind.Head}, '', 0, head FROM s"
            + $" UNION ALL SELECT {(int)RecordKind.Conversation}, conversation_id, ordinal, header FROM {schema}.voxon_conversations WHERE {of}";
        return withContent
            ? sql + $" UNION ALL SELECT {(int)RecordKind.Memory}, memory_id, 0, data FROM {schema}.voxon_memories WHERE {of}"
                + $" UNION ALL SELECT {(int)RecordKind.Turn}, conversation_id, turn_index, data FROM {schema}.voxon_turns WHERE {of}"
            : sql;
    }

    public override Task<bool> DeleteAsync(string sessionId, CancellationToken cancellationToken = default) =>
        DeleteAsync(sessionId, null, cancellationToken);

    public override Task<bool> DeleteAsync(string sessionId, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expectedVersion);
        return DeleteAsync(sessionId, (long?)expectedVersion, cancellationToken);
    }

    private Task<bool> DeleteAsync(string sessionId, long? expectedVersion, CancellationToken cancellationToken)
    {
        var id = SessionIds.Validate(sessionId);
        return RunAsync("delete", id, async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            bool deleted;

            // The version is checked by the delete itself: a save committed meanwhile (row locked, then re-read) keeps the row.
            await using (var command = new NpgsqlCommand($"DELETE FROM {S}.voxon_sessions WHERE {OfSession}{(expectedVersion is null ? string.Empty : " AND version = $2")}", connection, transaction) { Parameters = { new() { Value = id } } })
            {
                if (expectedVersion is { } expected)
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = expected });
                }

                deleted = await command.ExecuteNonQueryAsync(cancellationToken) > 0;
                if (!deleted && expectedVersion is { } wanted)
                {
                    await using var read = new NpgsqlCommand($"SELECT version FROM {S}.voxon_sessions WHERE session_id = $1", connection, transaction) { Parameters = { new() { Value = id } } };
                    var stored = await read.ExecuteScalarAsync(cancellationToken) as long?;
                    await transaction.RollbackAsync(cancellationToken);
                    return stored is { } actual ? throw new SessionConcurrencyException(BackendName, "delete", id, wanted, actual) : false;
                }
            }

            // Shares go with the session: a token must never open a later session that reuses the id.
            await using (var shares = new NpgsqlCommand($"DELETE FROM {S}.voxon_shares WHERE session_id = $1", connection, transaction) { Parameters = { new() { Value = id } } })
            {
                await shares.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return deleted;
        });
    }

    public override Task<IReadOnlyList<SessionSummary>> ListAsync(string? userId = null, CancellationToken cancellationToken = default)
    {
        if (userId is not null)
        {
            SessionIds.Validate(userId, "user id");
        }

        return RunAsync<IReadOnlyList<SessionSummary>>("list", null, async connection =>
        {
            var sql = $"SELECT session_id, user_id, created_at, updated_at, conversation_count, message_count FROM {S}.voxon_sessions"
                + (userId is null ? string.Empty : " WHERE user_id = $1") + " ORDER BY updated_at DESC";
            await using var command = new NpgsqlCommand(sql, connection);
            if (userId is not null)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = userId });
            }

            var summaries = new List<SessionSummary>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                summaries.Add(new SessionSummary(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetInt32(4), reader.GetInt32(5)));
            }

            return summaries;
        });
    }

    public override async ValueTask DisposeAsync()
    {
        // Marked first: an operation racing the disposal reports it rather than a driver error.
        await base.DisposeAsync();
        await _dataSource.DisposeAsync();
        _migrateGate.Dispose();
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }
}
