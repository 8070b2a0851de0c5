using StackExchange.Redis;

namespace Voxon.Storage.Redis;

internal sealed partial class RedisSessionStorage
{
    /// <summary>Runs <paramref name="body"/> against the database (connecting first if needed, and moving a store of
    /// an older key layout to the current one unless <paramref name="layout"/> is false), turning client errors into
    /// <see cref="VoxonStorageException"/>s that name the backend and operation and say whether a retry may help.</summary>
    private async Task<T> RunAsync<T>(string operation, string? sessionId, Func<IDatabase, Task<T>> body, bool layout = true)
    {
        ThrowIfDisposed(operation, sessionId);
        try
        {
            var connection = _connection ?? await ConnectAsync();
            if (layout && !_layoutReady)
            {
                await EnsureLayoutAsync(connection);
            }

            return await body(connection.GetDatabase());
        }
        catch (ObjectDisposedException ex) when (IsDisposed)
        {
            // Disposed while the operation ran.
            throw Disposed(operation, sessionId, ex);
        }
        catch (RedisConnectionException ex)
        {
            throw new VoxonStorageException(BackendName, operation, sessionId, $"the server is unreachable or the connection dropped ({ex.Message})", true, ex);
        }
        catch (RedisTimeoutException ex)
        {
            throw new VoxonStorageException(BackendName, operation, sessionId, $"the server did not answer in time ({ex.Message})", true, ex);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOPERM", StringComparison.Ordinal) || ex.Message.StartsWith("NOAUTH", StringComparison.Ordinal) || ex.Message.StartsWith("WRONGPASS", StringComparison.Ordinal))
        {
            throw new VoxonStorageException(BackendName, operation, sessionId, $"permission denied; check the user, password and ACL ({ex.Message})", false, ex);
        }
        catch (RedisException ex)
        {
            throw new VoxonStorageException(BackendName, operation, sessionId, ex.Message, ex.Message.StartsWith("LOADING", StringComparison.Ordinal) || ex.Message.StartsWith("BUSY", StringComparison.Ordinal), ex);
        }
    }

    private Task RunAsync(string operation, string? sessionId, Func<IDatabase, Task> body, bool layout = true) =>
        RunAsync(operation, sessionId, async db =>
        {
            await body(db);
            return true;
        }, layout);

    /// <summary>Runs the layout migration once per instance (it is a no-op on a store already migrated).</summary>
    private async Task EnsureLayoutAsync(ConnectionMultiplexer connection)
    {
        await _layoutGate.WaitAsync();
        try
        {
            if (!_layoutReady)
            {
                await new RedisLayoutMigration(connection, prefix, ShareOwnerAsync, ReportSkipped).RunAsync();
                _layoutReady = true;
            }
        }
        finally
        {
            _layoutGate.Release();
        }
    }

    private async Task<string?> ShareOwnerAsync(string tokenHash, byte[] data)
    {
        try
        {
            return (await StoredJson.ParseAsync(_codec, data, "share/" + tokenHash, VoxonJsonContext.Default.ShareRecord, "migrate keys", CancellationToken.None)).OwnerUserId;
        }
        catch (SessionCorruptException)
        {
            return null;
        }
    }

    /// <summary>Redis acknowledges a save from memory: a primary without an append-only file loses the saves since its
    /// last snapshot when it stops, and one that fsyncs the file less than always loses up to the last second's. Read
    /// on a connection of its own, in StackExchange.Redis's admin mode (which INFO and CONFIG need and the storage's
    /// connection does not): INFO persistence, then CONFIG GET appendfsync where the server allows it.</summary>
    internal override async Task<string?> DurabilityWarningAsync(CancellationToken cancellationToken)
    {
        try
        {
            var admin = configuration.Clone();
            admin.AllowAdmin = true;
            await using var connection = await ConnectionMultiplexer.ConnectAsync(admin);
            var problems = new List<string>();
            foreach (var endpoint in connection.GetEndPoints())
            {
                var server = connection.GetServer(endpoint);
                if (!server.IsConnected || server.IsReplica)
                {
                    continue;
                }

                if ((await server.InfoAsync("persistence")).SelectMany(g => g).FirstOrDefault(p => p.Key == "aof_enabled").Value == "0")
                {
                    problems.Add($"{endpoint} keeps no append-only file (appendonly no): the saves since its last snapshot are lost if it stops");
                }
                else if (await FsyncPolicyAsync(server) is { } policy and not "always")
                {
                    problems.Add($"{endpoint} fsyncs its append-only file {(policy == "no" ? "when the system chooses" : "every second")} (appendfsync {policy}): the last saves before its machine stops can be lost");
                }
            }

            return problems.Count == 0 ? null
                : $"Redis may lose acknowledged saves: {string.Join("; ", problems)}. Set appendonly yes and appendfsync always for every acknowledged save to survive.";
        }
        catch (Exception ex) when (ex is RedisException or RedisCommandException)
        {
            return null; // unknown (INFO refused, or the server unreachable: the first load reports that)
        }
    }

    /// <summary>The server's appendfsync, or null where CONFIG is refused (managed services often rename it).</summary>
    private static async Task<string?> FsyncPolicyAsync(IServer server)
    {
        try
        {
            return (await server.ConfigGetAsync("appendfsync")).FirstOrDefault().Value;
        }
        catch (RedisServerException)
        {
            return null;
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        await _connectGate.WaitAsync();
        try
        {
            // A failed attempt is not cached: the next call (or retry) connects again.
            return _connection ??= await ConnectionMultiplexer.ConnectAsync(configuration);
        }
        finally
        {
            _connectGate.Release();
        }
    }

    public override async Task SaveShareAsync(ShareRecord share, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(share);
        var hash = StoredJson.ValidateTokenHash(share.TokenHash);
        SessionIds.Validate(share.SessionId);
        var owner = SessionIds.Validate(share.OwnerUserId, "user id");
        var key = await _codec.KeyForAsync(owner, "save share", cancellationToken);
        var data = StoredJson.Seal(_codec, share, "share/" + hash, VoxonJsonContext.Default.ShareRecord, key);
        await RunAsync("save share", share.SessionId, async db =>
        {
            // The share lives under its owner's tag. Locators first, so the record is reachable once written: the token's,
            // and the session's when the session is not stored yet (its shares are listed under the user it names).
            var previous = (string?)await db.StringGetAsync(_keys.ShareUser(hash));
            await Task.WhenAll(db.StringSetAsync(_keys.ShareUser(hash), owner), db.StringSetAsync(_keys.SessionUser(share.SessionId), owner, when: When.NotExists), db.SetAddAsync(_keys.Users, owner));
            var transaction = db.CreateTransaction();
            _ = transaction.StringSetAsync(_keys.Share(owner, hash), data);
            _ = transaction.SetAddAsync(_keys.SessionShares(owner, share.SessionId), hash);
            _ = transaction.SetAddAsync(_keys.UserShares(owner), hash);
            await transaction.ExecuteAsync();
            if (previous is not null && previous != owner)
            {
                // Saved before under another owner: that copy goes, so one token never has two records.
                var old = db.CreateTransaction();
                _ = old.KeyDeleteAsync(_keys.Share(previous, hash));
                _ = old.SetRemoveAsync(_keys.SessionShares(previous, share.SessionId), hash);
                _ = old.SetRemoveAsync(_keys.UserShares(previous), hash);
                await old.ExecuteAsync();
            }
        });
    }

    public override Task<ShareRecord?> FindShareAsync(string tokenHash, CancellationToken cancellationToken = default)
    {
        var hash = StoredJson.ValidateTokenHash(tokenHash);
        return RunAsync("find share", null, async db =>
            (string?)await db.StringGetAsync(_keys.ShareUser(hash)) is { } owner && (byte[]?)await db.StringGetAsync(_keys.Share(owner, hash)) is { } data
                ? await StoredJson.ParseAsync(_codec, data, "share/" + hash, VoxonJsonContext.Default.ShareRecord, "find share", cancellationToken)
                : null);
    }

    public override Task<IReadOnlyList<ShareRecord>> ListSharesAsync(string sessionId, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<ShareRecord>>("list shares", SessionIds.Validate(sessionId), async db =>
        {
            if ((string?)await db.StringGetAsync(_keys.SessionUser(sessionId)) is not { } user)
            {
                return [];
            }

            var hashes = await db.SetMembersAsync(_keys.SessionShares(user, sessionId));
            var values = hashes.Length == 0 ? [] : await db.StringGetAsync([.. hashes.Select(h => _keys.Share(user, h!))]);
            var stored = hashes.Zip(values).Where(p => !p.Second.IsNull).Select(p => ((string)p.First!, (byte[])p.Second!));
            return [.. (await StoredJson.ParseSharesAsync(_codec, stored, ReportSkipped, cancellationToken)).OrderBy(s => s.CreatedAt)];
        });

    public override async Task SaveTemplateAsync(TemplateDocument template, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(template);
        var name = SessionIds.Validate(template.Name, "template name");
        var key = await _codec.KeyForAsync(null, "save template", cancellationToken);
        var data = StoredJson.Seal(_codec, template, "template/" + name, VoxonJsonContext.Default.TemplateDocument, key);
        await RunAsync("save template", null, async db =>
        {
            var transaction = db.CreateTransaction();
            _ = transaction.StringSetAsync(_keys.Template(name), data);
            _ = transaction.SetAddAsync(_keys.Templates, name);
            await transaction.ExecuteAsync();
        });
    }

    public override Task<TemplateDocument?> LoadTemplateAsync(string name, CancellationToken cancellationToken = default)
    {
        SessionIds.Validate(name, "template name");
        return RunAsync("load template", null, async db =>
            (byte[]?)await db.StringGetAsync(_keys.Template(name)) is { } data
                ? await StoredJson.ParseAsync(_codec, data, "template/" + name, VoxonJsonContext.Default.TemplateDocument, "load template", cancellationToken)
                : null);
    }

    public override Task<IReadOnlyList<string>> ListTemplatesAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<string>>("list templates", null, async db =>
            [.. (await db.SetMembersAsync(_keys.Templates)).Select(v => (string)v!).Order(StringComparer.Ordinal)]);

    public override async ValueTask DisposeAsync()
    {
        // Marked first: an operation racing the disposal reports it rather than a driver error.
        await base.DisposeAsync();
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _connectGate.Dispose();
        _layoutGate.Dispose();
    }
}
