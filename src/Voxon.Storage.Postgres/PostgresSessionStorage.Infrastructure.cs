using System.Net.Sockets;
using Npgsql;

namespace Voxon.Storage.Postgres;

internal sealed partial class PostgresSessionStorage
{
    /// <summary>Runs <paramref name="operation"/> on a pooled connection after the schema is current, turning driver
    /// errors into <see cref="VoxonStorageException"/>s that name the backend, the operation and whether a retry may help.</summary>
    private async Task<T> RunAsync<T>(string operation, string? sessionId, Func<NpgsqlConnection, Task<T>> body)
    {
        ThrowIfDisposed(operation, sessionId);
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync();
            if (!_migrated)
            {
                await MigrateAsync(connection);
            }

            return await body(connection);
        }
        catch (PostgresException ex)
        {
            var hint = ex.SqlState switch
            {
                PostgresErrorCodes.InsufficientPrivilege => "permission denied; grant the user rights on the schema and tables",
                PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification => "authentication failed; check the user and password in the URL",
                PostgresErrorCodes.InvalidCatalogName => "the database does not exist",
                _ => ex.MessageText,
            };
            throw new VoxonStorageException(BackendName, operation, sessionId, $"{hint} ({ex.SqlState}: {ex.MessageText})", ex.IsTransient, ex);
        }
        catch (ObjectDisposedException ex) when (IsDisposed)
        {
            // Disposed while the operation ran.
            throw Disposed(operation, sessionId, ex);
        }
        catch (NpgsqlException ex)
        {
            var unreachable = ex.InnerException is SocketException or TimeoutException;
            var message = unreachable ? $"the server is unreachable ({ex.InnerException!.Message})" : ex.Message;
            throw new VoxonStorageException(BackendName, operation, sessionId, message, ex.IsTransient || unreachable, ex);
        }
    }

    /// <summary>PostgreSQL acknowledges a commit once it is on disk, unless the server or the connection says otherwise:
    /// with fsync off a crash can lose or damage anything, with synchronous_commit off the last commits before it.</summary>
    internal override async Task<string?> DurabilityWarningAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT current_setting('fsync'), current_setting('synchronous_commit')", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var (fsync, synchronousCommit) = (reader.GetString(0), reader.GetString(1));
            return fsync == "off"
                ? "PostgreSQL runs with fsync off: a crash of its machine can lose or damage acknowledged saves. Turn fsync on."
                : synchronousCommit == "off"
                    ? "PostgreSQL commits Voxon's saves with synchronous_commit off: the last acknowledged saves before a crash of the server can be lost. Set it on (or local, remote_write...)."
                    : null;
        }
        catch (NpgsqlException)
        {
            return null; // unknown (the server unreachable: the first load reports that)
        }
    }

    private Task RunAsync(string operation, string? sessionId, Func<NpgsqlConnection, Task> body) =>
        RunAsync(operation, sessionId, async connection =>
        {
            await body(connection);
            return true;
        });

    /// <summary>Creates the schema and applies missing migrations, holding a transaction-scoped advisory lock so that
    /// of several processes starting at once one migrates and the others wait and find it done.</summary>
    private async Task MigrateAsync(NpgsqlConnection connection)
    {
        await _migrateGate.WaitAsync();
        try
        {
            if (_migrated)
            {
                return;
            }

            await using var transaction = await connection.BeginTransactionAsync();
            await using (var command = new NpgsqlCommand(
                // The schema name is validated (letters, digits, '_'), so it can be a literal here.
                $"SELECT pg_advisory_xact_lock({PostgresSchema.LockKey}, hashtext('{_schema}')); CREATE SCHEMA IF NOT EXISTS {S}; "
                + $"CREATE TABLE IF NOT EXISTS {S}.voxon_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                connection,
                transaction))
            {
                await command.ExecuteNonQueryAsync();
            }

            await using (var current = new NpgsqlCommand($"SELECT coalesce(max(version), 0) FROM {S}.voxon_schema_migrations", connection, transaction))
            {
                var applied = Convert.ToInt32(await current.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
                for (var version = applied + 1; version <= PostgresSchema.Migrations.Count; version++)
                {
                    await using var migrate = new NpgsqlCommand(
                        PostgresSchema.Migrations[version - 1].Replace("{s}", S, StringComparison.Ordinal) + $"; INSERT INTO {S}.voxon_schema_migrations (version) VALUES ({version})",
                        connection,
                        transaction);
                    await migrate.ExecuteNonQueryAsync();
                }
            }

            await transaction.CommitAsync();
            _migrated = true;
        }
        finally
        {
            _migrateGate.Release();
        }
    }

    public override async Task SaveShareAsync(ShareRecord share, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(share);
        var hash = StoredJson.ValidateTokenHash(share.TokenHash);
        var key = await _codec.KeyForAsync(SessionIds.Validate(share.OwnerUserId, "user id"), "save share", cancellationToken);
        var data = StoredJson.Seal(_codec, share, "share/" + hash, VoxonJsonContext.Default.ShareRecord, key);
        // A share lives in its owner's partition; a record saved with another owner than before moves there.
        await RunAsync("save share", share.SessionId, async connection =>
        {
            await using var batch = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    Command($"DELETE FROM {S}.voxon_shares WHERE share_id = $1 AND user_id <> $2", share.ShareId, share.OwnerUserId),
                    Command($"INSERT INTO {S}.voxon_shares (user_id, share_id, token_hash, session_id, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, share_id) DO UPDATE SET token_hash = $3, session_id = $4, data = $5", share.OwnerUserId, share.ShareId, hash, share.SessionId, data),
                },
            };
            await batch.ExecuteNonQueryAsync(cancellationToken);
        });
    }

    public override async Task<ShareRecord?> FindShareAsync(string tokenHash, CancellationToken cancellationToken = default)
    {
        var hash = StoredJson.ValidateTokenHash(tokenHash);
        var rows = await QueryAsync("find share", $"SELECT token_hash, data FROM {S}.voxon_shares WHERE token_hash = $1", cancellationToken, hash);
        return rows.Count == 0 ? null : await StoredJson.ParseAsync(_codec, rows[0].Data, "share/" + rows[0].Key, VoxonJsonContext.Default.ShareRecord, "find share", cancellationToken);
    }

    public override async Task<IReadOnlyList<ShareRecord>> ListSharesAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var id = SessionIds.Validate(sessionId);
        var rows = await QueryAsync("list shares", $"SELECT token_hash, data FROM {S}.voxon_shares WHERE session_id = $1", cancellationToken, id);
        return [.. (await StoredJson.ParseSharesAsync(_codec, rows.Select(r => (r.Key, r.Data)), ReportSkipped, cancellationToken)).OrderBy(s => s.CreatedAt)];
    }

    public override async Task SaveTemplateAsync(TemplateDocument template, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(template);
        var name = SessionIds.Validate(template.Name, "template name");
        var key = await _codec.KeyForAsync(null, "save template", cancellationToken);
        var data = StoredJson.Seal(_codec, template, "template/" + name, VoxonJsonContext.Default.TemplateDocument, key);
        await ExecuteAsync("save template", null, $"INSERT INTO {S}.voxon_templates VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = $2", cancellationToken, name, data);
    }

    public override async Task<TemplateDocument?> LoadTemplateAsync(string name, CancellationToken cancellationToken = default)
    {
        SessionIds.Validate(name, "template name");
        var rows = await QueryAsync("load template", $"SELECT name, data FROM {S}.voxon_templates WHERE name = $1", cancellationToken, name);
        return rows.Count == 0 ? null : await StoredJson.ParseAsync(_codec, rows[0].Data, "template/" + name, VoxonJsonContext.Default.TemplateDocument, "load template", cancellationToken);
    }

    public override async Task<IReadOnlyList<string>> ListTemplatesAsync(CancellationToken cancellationToken = default)
    {
        var rows = await QueryAsync("list templates", $"SELECT name, ''::bytea FROM {S}.voxon_templates ORDER BY name COLLATE \"C\"", cancellationToken);
        return [.. rows.Select(r => r.Key)];
    }

    private Task<int> ExecuteAsync(string operation, string? sessionId, string sql, CancellationToken cancellationToken, params object[] values) =>
        RunAsync(operation, sessionId, async connection =>
        {
            await using var command = new NpgsqlCommand(sql, connection);
            foreach (var value in values)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value });
            }

            return await command.ExecuteNonQueryAsync(cancellationToken);
        });

    /// <summary>Rows of (text key, bytea data).</summary>
    private Task<List<(string Key, byte[] Data)>> QueryAsync(string operation, string sql, CancellationToken cancellationToken, params object[] values) =>
        RunAsync(operation, null, async connection =>
        {
            await using var command = new NpgsqlCommand(sql, connection);
            foreach (var value in values)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value });
            }

            var rows = new List<(string, byte[])>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((reader.GetString(0), reader.GetFieldValue<byte[]>(1)));
            }

            return rows;
        });
}
