using Npgsql;
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
        ? $"DELETE FROM {Space}.voxon_turns WHERE ctid = (SELECT ctid FROM {Space}.voxon_turns WHERE session_id = $1 ORDER BY turn_index DESC LIMIT 1)"
        : $"DELETE FROM {Space}.voxon_memories WHERE ctid = (SELECT ctid FROM {Space}.voxon_memories WHERE session_id = $1 LIMIT 1)", sessionId);

    public override async Task<string> DamageAsync(string sessionId, Random random)
    {
        // Every stored row of the session with its table and data column; the head row may be changed but not deleted.
        var rows = new List<(string Table, string Column, string Tid, int Length)>();
        foreach (var (table, column) in new[] { ("voxon_sessions", "head"), ("voxon_memories", "data"), ("voxon_conversations", "header"), ("voxon_turns", "data") })
        {
            await using var connection = await OpenAsync();
            await using var command = new NpgsqlCommand($"SELECT ctid::text, length({column}) FROM {Space}.{table} WHERE session_id = $1", connection) { Parameters = { new() { Value = sessionId } } };
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((table, column, reader.GetString(0), reader.GetInt32(1)));
            }
        }

        var row = rows[random.Next(rows.Count)];
        if (row.Table != "voxon_sessions" && random.Next(2) == 0)
        {
            await ExecuteAsync($"DELETE FROM {Space}.{row.Table} WHERE ctid = $1::tid", row.Tid);
            return $"deleted a row of {row.Table}";
        }

        var at = random.Next(row.Length);
        var mask = random.Next(1, 256);
        await ExecuteAsync($"UPDATE {Space}.{row.Table} SET {row.Column} = set_byte({row.Column}, {at}, get_byte({row.Column}, {at}) # {mask}) WHERE ctid = $1::tid", row.Tid);
        return $"flipped byte {at} of a row of {row.Table} with {mask:x2}";
    }

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
            Assert.Equal(2L, await command.ExecuteScalarAsync()); // the tables, then the key ring
        }
        finally
        {
            foreach (var storage in storages)
            {
                await storage.DisposeAsync();
            }
        }
    }
}

public sealed class PostgresProcessTests(PostgresFixture fixture) : StorageProcessTests<PostgresFixture>(fixture);
