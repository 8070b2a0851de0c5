using Npgsql;
using Voxon.Sessions;
using Voxon.Sharing;
using Voxon.Storage.Conformance;

namespace Voxon.Storage.Postgres.Tests;

/// <summary>PostgreSQL at <c>VOXON_TEST_POSTGRES</c>, in a schema of its own.</summary>
public sealed class PostgresFixture : StorageFixture
{
    public override string Backend => "postgresql";

    public override string? Target => Environment.GetEnvironmentVariable(Variable);

    protected override string Variable => "VOXON_TEST_POSTGRES";

    public override SessionStorage CreateBroken() =>
        PostgresStorage.Create(new PostgresStorageOptions { ConnectionString = "postgresql://nobody@127.0.0.1:1/none?Timeout=2" });

    public override async Task<byte[]> ReadRawAsync()
    {
        var rows = await QueryAsync($"""
            SELECT head FROM {Space}.voxon_sessions UNION ALL SELECT data FROM {Space}.voxon_memories
            UNION ALL SELECT header FROM {Space}.voxon_conversations UNION ALL SELECT data FROM {Space}.voxon_turns
            UNION ALL SELECT data FROM {Space}.voxon_shares UNION ALL SELECT data FROM {Space}.voxon_templates
            """);
        return [.. rows.SelectMany(r => r)];
    }

    public override Task TamperAsync(string sessionId) =>
        QueryAsync($"UPDATE {Space}.voxon_memories SET data = set_byte(data, length(data) - 3, (get_byte(data, length(data) - 3) + 1) % 256) WHERE session_id = '{sessionId}' RETURNING data");

    // Summary columns are typed and NOT NULL: there is nothing a listing could fail to decode.
    public override Task<bool> BreakSummaryAsync(string sessionId) => Task.FromResult(false);

    public override Task TamperShareAsync(string tokenHash) =>
        QueryAsync($"UPDATE {Space}.voxon_shares SET data = set_byte(data, 0, 0) WHERE token_hash = '{tokenHash}' RETURNING data");

    public override Task DeleteLastRecordAsync(string sessionId, string kind) => ExecuteAsync(kind == "turn"
        ? $"DELETE FROM {Space}.voxon_turns WHERE (tableoid, ctid) = (SELECT tableoid, ctid FROM {Space}.voxon_turns WHERE session_id = $1 ORDER BY turn_index DESC LIMIT 1)"
        : $"DELETE FROM {Space}.voxon_memories WHERE (tableoid, ctid) = (SELECT tableoid, ctid FROM {Space}.voxon_memories WHERE session_id = $1 LIMIT 1)", sessionId);

    public override async Task<string> DamageAsync(string sessionId, Random random)
    {
        // Every stored row of the session with its table and data column; the head row may be changed but not deleted.
        // A row is named by its partition (tableoid) and place in it (ctid): a ctid alone repeats across partitions.
        var rows = new List<(string Table, string Column, string Tid, int Length)>();
        foreach (var (table, column) in new[] { ("voxon_sessions", "head"), ("voxon_memories", "data"), ("voxon_conversations", "header"), ("voxon_turns", "data") })
        {
            await using var connection = await OpenAsync();
            await using var command = new NpgsqlCommand($"SELECT ctid::text || '@' || tableoid::bigint, length({column}) FROM {Space}.{table} WHERE session_id = $1", connection) { Parameters = { new() { Value = sessionId } } };
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((table, column, reader.GetString(0), reader.GetInt32(1)));
            }
        }

        var row = rows[random.Next(rows.Count)];
        if (row.Table != "voxon_sessions" && random.Next(2) == 0)
        {
            await ExecuteAsync($"DELETE FROM {Space}.{row.Table} WHERE {RowIs(row.Tid)}", row.Tid);
            return $"deleted a row of {row.Table}";
        }

        var at = random.Next(row.Length);
        var mask = random.Next(1, 256);
        await ExecuteAsync($"UPDATE {Space}.{row.Table} SET {row.Column} = set_byte({row.Column}, {at}, get_byte({row.Column}, {at}) # {mask}) WHERE {RowIs(row.Tid)}", row.Tid);
        return $"flipped byte {at} of a row of {row.Table} with {mask:x2}";
    }

    /// <summary>The condition on the row <c>ctid@tableoid</c>, with the ctid as <c>$1</c>.</summary>
    private static string RowIs(string row) => $"tableoid = {row[(row.IndexOf('@') + 1)..]} AND ctid = split_part($1, '@', 1)::tid";

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(PostgresStorage.ParseUrl(Target!).ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private async Task ExecuteAsync(string sql, string value)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = value } } };
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    public override async Task<StoredCopy> CopySessionAsync(string sessionId)
    {
        var backup = "b" + Guid.NewGuid().ToString("N")[..8];
        string[] tables = ["voxon_sessions", "voxon_memories", "voxon_conversations", "voxon_turns"];
        foreach (var table in tables)
        {
            await QueryAsync($"CREATE TABLE {Space}.{backup}_{table} AS SELECT * FROM {Space}.{table} WHERE session_id = '{sessionId}'; SELECT ''::bytea");
        }

        var bytes = await QueryAsync($"""
            SELECT head FROM {Space}.{backup}_voxon_sessions UNION ALL (SELECT data FROM {Space}.{backup}_voxon_memories ORDER BY memory_id)
            UNION ALL (SELECT header FROM {Space}.{backup}_voxon_conversations ORDER BY conversation_id) UNION ALL (SELECT data FROM {Space}.{backup}_voxon_turns ORDER BY conversation_id, turn_index)
            """);
        return new StoredCopy([.. bytes.SelectMany(b => b)], async () =>
        {
            foreach (var table in tables)
            {
                await QueryAsync($"INSERT INTO {Space}.{table} SELECT * FROM {Space}.{backup}_{table}; SELECT ''::bytea");
            }
        });
    }

    private async Task<List<byte[]>> QueryAsync(string sql)
    {
        var (connectionString, _) = PostgresStorage.ParseUrl(Target!);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var rows = new List<byte[]>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetFieldValue<byte[]>(0));
        }

        return rows;
    }
}

public sealed class PostgresSessionStorageTests(PostgresFixture fixture) : SessionStorageTests<PostgresFixture>(fixture)
{
    [SkippableFact]
    public async Task Warming_up_warns_when_saves_commit_with_synchronous_commit_off()
    {
        // A commit then returns before its WAL is on disk: the last acknowledged saves before a server crash can be lost.
        Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);
        Task<IReadOnlyList<string>> WarmUpAsync(string connectionString) =>
            StorageFixture.WarmUpLogsAsync(PostgresStorage.Create(new PostgresStorageOptions { ConnectionString = connectionString, Schema = Fixture.Space }));

        Assert.DoesNotContain(await WarmUpAsync(Fixture.Target!), m => m.StartsWith("PostgreSQL", StringComparison.Ordinal));
        var relaxed = new NpgsqlConnectionStringBuilder(PostgresStorage.ParseUrl(Fixture.Target!).ConnectionString) { Options = "-c synchronous_commit=off" };
        Assert.Single(await WarmUpAsync(relaxed.ConnectionString), m => m.StartsWith("PostgreSQL commits Voxon's saves with synchronous_commit off", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task Processes_starting_together_migrate_the_schema_once()
    {
        Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);
        var schema = "m" + Guid.NewGuid().ToString("N")[..10];
        var storages = Enumerable.Range(0, 4).Select(_ => PostgresStorage.Create(new PostgresStorageOptions { ConnectionString = Fixture.Target!, Schema = schema })).ToList();
        try
        {
            // Each instance migrates on first use; the advisory lock makes all but one find the work done.
            await Task.WhenAll(storages.Select(s => s.ListAsync()));
            await using var connection = new NpgsqlConnection(PostgresStorage.ParseUrl(Fixture.Target!).ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"SELECT count(*) FROM {schema}.voxon_schema_migrations", connection);
            Assert.Equal((long)PostgresSchema.Migrations.Count, await command.ExecuteScalarAsync());
        }
        finally
        {
            foreach (var storage in storages)
            {
                await storage.DisposeAsync();
            }
        }
    }

    [SkippableFact]
    public async Task A_store_of_unpartitioned_tables_is_partitioned_by_user_in_place_on_open_with_its_data()
    {
        Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);
        var key = SessionEncryption.FromKey("partition migration key");
        var source = "ms" + Guid.NewGuid().ToString("N")[..10];
        var legacy = "ml" + Guid.NewGuid().ToString("N")[..10];
        await using var connection = new NpgsqlConnection(PostgresStorage.ParseUrl(Fixture.Target!).ConnectionString);
        await connection.OpenAsync();

        // Sessions of several users, with memories, turns, a share and a template, saved by this version...
        var saved = new List<SessionDocument>();
        string shareHash;
        await using (var storage = PostgresStorage.Create(new PostgresStorageOptions { ConnectionString = Fixture.Target!, Schema = source, Encryption = key }))
        {
            await using var client = Worker.WorkerStorage.Client(storage);
            for (var u = 0; u < 4; u++)
            {
                var session = await client.CreateSessionAsync($"user_legacy_{u}");
                await session.AddMemoryAsync($"user {u} likes tea number {u}");
                await (await session.StartConversationAsync()).SendMessageAsync($"hello from user {u}");
                await session.SaveAsync();
                saved.Add((await storage.LoadAsync(session.SessionId))!);
            }

            var share = await (await client.LoadSessionAsync(saved[0].SessionId)).CreateSharedViewAsync("user_reader", [SharePermissions.Read], TimeSpan.FromDays(1));
            shareHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(share.Token)));
            await storage.SaveTemplateAsync(new TemplateDocument { Name = "tpl_legacy", BaseConfig = new SessionConfig { Instructions = "Be brief" } });
        }

        // ...copied into the tables of the version before partitioning (migrations 1 and 2, no user_id in the child tables).
        var old = string.Concat(PostgresSchema.Migrations.Take(2)).Replace("{s}", legacy, StringComparison.Ordinal);
        await Sql($"""
            CREATE SCHEMA {legacy};
            CREATE TABLE {legacy}.voxon_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO {legacy}.voxon_schema_migrations (version) VALUES (1), (2);
            {old};
            INSERT INTO {legacy}.voxon_sessions SELECT session_id, user_id, version, created_at, updated_at, conversation_count, message_count, head FROM {source}.voxon_sessions;
            INSERT INTO {legacy}.voxon_memories SELECT session_id, memory_id, data FROM {source}.voxon_memories;
            INSERT INTO {legacy}.voxon_conversations SELECT session_id, conversation_id, ordinal, header FROM {source}.voxon_conversations;
            INSERT INTO {legacy}.voxon_turns SELECT session_id, conversation_id, turn_index, data FROM {source}.voxon_turns;
            INSERT INTO {legacy}.voxon_shares SELECT share_id, token_hash, session_id, data FROM {source}.voxon_shares;
            INSERT INTO {legacy}.voxon_templates SELECT * FROM {source}.voxon_templates;
            INSERT INTO {legacy}.voxon_keyring SELECT * FROM {source}.voxon_keyring;
            """);
        Assert.Equal(0L, (long)await Scalar($"SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{legacy}'"));

        await using (var storage = PostgresStorage.Create(new PostgresStorageOptions { ConnectionString = Fixture.Target!, Schema = legacy, Encryption = key }))
        {
            foreach (var document in saved)
            {
                var loaded = (await storage.LoadAsync(document.SessionId))!;
                Assert.Equal(SessionDocumentSerializer.Serialize(document), SessionDocumentSerializer.Serialize(loaded));
            }

            Assert.Equal(4, (await storage.ListAsync()).Count);
            Assert.Equal(saved[2].SessionId, Assert.Single(await storage.ListAsync("user_legacy_2")).SessionId);
            Assert.Equal(saved[0].SessionId, (await storage.FindShareAsync(shareHash))!.SessionId);
            Assert.Equal("Be brief", (await storage.LoadTemplateAsync("tpl_legacy"))!.BaseConfig.Instructions);

            // Writes go on in the partitioned tables, and erasure still finds everything of a user.
            await using var client = Worker.WorkerStorage.Client(storage);
            var session = await client.LoadSessionAsync(saved[1].SessionId);
            await session.AddMemoryAsync("added after the migration");
            await session.SaveAsync();
            Assert.Contains((await storage.LoadAsync(saved[1].SessionId))!.Memory.Entries, e => e.Content == "added after the migration");
            Assert.Equal(1, (await storage.EraseUserAsync("user_legacy_0")).Counts[ErasureReceipt.Sessions]);
            Assert.Null(await storage.FindShareAsync(shareHash));
            Assert.Equal(3, (await storage.ListAsync()).Count);
        }

        // Partitioned by hash of user_id, every partition attached, and the migration applied once.
        foreach (var table in PostgresSchema.PartitionedTables)
        {
            Assert.Equal("h:user_id", (string)await Scalar($"""
                SELECT p.partstrat::text || ':' || a.attname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0]
                WHERE n.nspname = '{legacy}' AND c.relname = '{table}'
                """));
            Assert.Equal((long)PostgresSchema.Partitions, (long)await Scalar($"SELECT count(*) FROM pg_inherits WHERE inhparent = '{legacy}.{table}'::regclass"));
        }

        Assert.Equal((long)PostgresSchema.Migrations.Count, (long)await Scalar($"SELECT count(*) FROM {legacy}.voxon_schema_migrations"));

        async Task Sql(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        async Task<object> Scalar(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            return (await command.ExecuteScalarAsync())!;
        }
    }

    [SkippableFact]
    public async Task Reads_of_a_users_sessions_touch_one_partition()
    {
        Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);
        var storage = Open();
        await using var client = Worker.WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_pruned");
        await session.AddMemoryAsync("pruned fact");
        await session.SaveAsync();
        await using var connection = new NpgsqlConnection(PostgresStorage.ParseUrl(Fixture.Target!).ConnectionString);
        await connection.OpenAsync();

        // The plan of a load's statement, run: of each table one partition scanned, the others removed at run time.
        await using var command = new NpgsqlCommand(
            "EXPLAIN (ANALYZE, COSTS OFF, FORMAT TEXT) " + PostgresSessionStorage.LoadSql(Fixture.Space, withContent: true),
            connection) { Parameters = { new() { Value = session.SessionId } } };
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        foreach (var table in new[] { "voxon_memories", "voxon_conversations", "voxon_turns" })
        {
            var scanned = plan.Count(l => l.Contains($" on {table}_p", StringComparison.Ordinal) && !l.Contains("never executed", StringComparison.Ordinal));
            Assert.True(scanned == 1, table + ":\n" + string.Join('\n', plan));
        }
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Load_of_many_memories_decoded_in_batches_keeps_them_all_and_reports_a_damaged_one(bool encrypted)
    {
        Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);
        var storage = Open(encrypted ? SessionEncryption.FromKey(Key1) : null);
        await using var client = Worker.WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_batches");
        for (var i = 0; i < 700; i++)
        {
            await session.AddMemoryAsync($"batched fact {i} about topic {i % 31}");
        }

        await session.SaveAsync();

        // 700 records of about 1.6 KB: several batches, decoded on the thread pool while rows arrive.
        var saved = session.GetMemory().Entries.ToDictionary(e => e.Id);
        var loaded = (await storage.LoadAsync(session.SessionId))!;
        Assert.Equal(700, loaded.Memory.Entries.Count);
        foreach (var entry in loaded.Memory.Entries)
        {
            Assert.Equal(saved[entry.Id].Content, entry.Content);
            Assert.Equal(saved[entry.Id].Embedding.ToArray(), entry.Embedding.ToArray());
        }

        // One record in the middle damaged: the load fails as corrupt, whichever thread decoded it.
        var victim = loaded.Memory.Entries[350].Id;
        await using (var connection = new NpgsqlConnection(PostgresStorage.ParseUrl(Fixture.Target!).ConnectionString))
        {
            await connection.OpenAsync();
            await using var damage = new NpgsqlCommand($"UPDATE {Fixture.Space}.voxon_memories SET data = substring(data from 1 for length(data) - 5) WHERE memory_id = $1", connection) { Parameters = { new() { Value = victim } } };
            Assert.Equal(1, await damage.ExecuteNonQueryAsync());
        }

        var error = await Assert.ThrowsAsync<SessionCorruptException>(() => storage.LoadAsync(session.SessionId));
        Assert.Contains(encrypted ? "decryption failed" : "Memory record", error.Message, StringComparison.Ordinal);
        Assert.NotNull(await storage.LoadMetadataAsync(session.SessionId));
    }
}

public sealed class PostgresProcessTests(PostgresFixture fixture) : StorageProcessTests<PostgresFixture>(fixture);
