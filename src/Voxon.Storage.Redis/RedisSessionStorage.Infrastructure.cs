using StackExchange.Redis;

namespace Voxon.Storage.Redis;

internal sealed partial class RedisSessionStorage
{
    /// <summary>Runs <paramref name="body"/> against the database (connecting first if needed), turning client errors
    /// into <see cref="VoxonStorageException"/>s that name the backend and operation and say whether a retry may help.</summary>
    private async Task<T> RunAsync<T>(string operation, string? sessionId, Func<IDatabase, Task<T>> body)
    {
        ThrowIfDisposed(operation, sessionId);
        try
        {
            var connection = _connection ?? await ConnectAsync();
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

    private Task RunAsync(string operation, string? sessionId, Func<IDatabase, Task> body) =>
        RunAsync(operation, sessionId, async db =>
        {
            await body(db);
            return true;
        });

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
        var key = await _codec.KeyForAsync(SessionIds.Validate(share.OwnerUserId, "user id"), "save share", cancellationToken);
        var data = StoredJson.Seal(_codec, share, "share/" + hash, VoxonJsonContext.Default.ShareRecord, key);
        await RunAsync("save share", share.SessionId, async db =>
        {
            var transaction = db.CreateTransaction();
            _ = transaction.StringSetAsync(ShareKey(hash), data);
            _ = transaction.SetAddAsync(SharesKey(share.SessionId), hash);
            await transaction.ExecuteAsync();
        });
    }

    public override Task<ShareRecord?> FindShareAsync(string tokenHash, CancellationToken cancellationToken = default)
    {
        var hash = StoredJson.ValidateTokenHash(tokenHash);
        return RunAsync("find share", null, async db =>
            (byte[]?)await db.StringGetAsync(ShareKey(hash)) is { } data
                ? await StoredJson.ParseAsync(_codec, data, "share/" + hash, VoxonJsonContext.Default.ShareRecord, "find share", cancellationToken)
                : null);
    }

    public override Task<IReadOnlyList<ShareRecord>> ListSharesAsync(string sessionId, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<ShareRecord>>("list shares", SessionIds.Validate(sessionId), async db =>
        {
            var hashes = await db.SetMembersAsync(SharesKey(sessionId));
            var values = hashes.Length == 0 ? [] : await db.StringGetAsync([.. hashes.Select(h => ShareKey(h!))]);
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
            _ = transaction.StringSetAsync($"{prefix}template:{name}", data);
            _ = transaction.SetAddAsync($"{prefix}templates", name);
            await transaction.ExecuteAsync();
        });
    }

    public override Task<TemplateDocument?> LoadTemplateAsync(string name, CancellationToken cancellationToken = default)
    {
        SessionIds.Validate(name, "template name");
        return RunAsync("load template", null, async db =>
            (byte[]?)await db.StringGetAsync($"{prefix}template:{name}") is { } data
                ? await StoredJson.ParseAsync(_codec, data, "template/" + name, VoxonJsonContext.Default.TemplateDocument, "load template", cancellationToken)
                : null);
    }

    public override Task<IReadOnlyList<string>> ListTemplatesAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<string>>("list templates", null, async db =>
            [.. (await db.SetMembersAsync($"{prefix}templates")).Select(v => (string)v!).Order(StringComparer.Ordinal)]);

    public override async ValueTask DisposeAsync()
    {
        // Marked first: an operation racing the disposal reports it rather than a driver error.
        await base.DisposeAsync();
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _connectGate.Dispose();
    }
}
