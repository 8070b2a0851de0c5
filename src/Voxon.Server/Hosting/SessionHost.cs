using System.Collections.Concurrent;
using Voxon.Server.Tenancy;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Server.Hosting;

/// <summary>
/// Serves sessions to requests: loads each once and keeps it live, checks that it belongs to the caller's tenant
/// (another tenant's session is "not found", exactly like a missing one), runs one request at a time per session, and
/// saves after every change, so an acknowledged request is stored. A save that finds a newer stored version (another
/// process wrote it) fails with 409, and one that storage refuses with 503; either drops the live copy with its
/// unstored change, and the next request loads the stored one.
/// </summary>
internal sealed class SessionHost(VoxonClient voxon, VoxonServerOptions options, ILogger<SessionHost> logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<LiveSession>>> _live = new(StringComparer.Ordinal);

    // Conversations open in a live copy when it was dropped, handed to the copy loaded next (LiveSession.OpenBeforeReload).
    private readonly ConcurrentDictionary<string, string[]> _openAtDrop = new(StringComparer.Ordinal);
    private long _clock;

    public VoxonClient Voxon => voxon;

    /// <summary>Creates a session for the tenant's user and stores it.</summary>
    public async Task<Session> CreateAsync(Func<Task<Session>> create, CancellationToken cancellationToken)
    {
        var session = await create();
        await session.SaveAsync(cancellationToken);
        Adopt(session);
        return session;
    }

    /// <summary>Runs <paramref name="work"/> on the tenant's session <paramref name="sessionId"/>; saves after it when <paramref name="save"/>.</summary>
    /// <exception cref="ArgumentException">The id breaks the id rules.</exception>
    /// <exception cref="SessionNotFoundException">No such session, or another tenant's.</exception>
    public async Task<T> RunAsync<T>(string tenant, string sessionId, bool save, Func<LiveSession, Task<T>> work, CancellationToken cancellationToken)
    {
        SessionIds.Validate(sessionId);
        while (true)
        {
            var live = await GetAsync(sessionId, cancellationToken);
            if (!Tenants.Owns(tenant, live.Session.UserId))
            {
                throw new SessionNotFoundException(sessionId, voxon.Storage.BackendName);
            }

            await live.Gate.WaitAsync(cancellationToken);
            try
            {
                if (live.Dropped)
                {
                    continue;
                }

                live.LastUsed = Interlocked.Increment(ref _clock);
                var result = await work(live);
                if (save)
                {
                    await SaveAsync(live, cancellationToken);
                }

                return result;
            }
            finally
            {
                live.Gate.Release();
            }
        }
    }

    /// <summary>Deletes the tenant's session.</summary>
    public async Task DeleteAsync(string tenant, string sessionId, CancellationToken cancellationToken)
    {
        await RunAsync(tenant, sessionId, save: false, async live =>
        {
            await voxon.DeleteSessionAsync(sessionId, cancellationToken);
            await DropAsync(live);
            _openAtDrop.TryRemove(sessionId, out _);
            return true;
        }, cancellationToken);
    }

    /// <summary>Drops the live copy of <paramref name="sessionId"/>, if any, after something else wrote the stored one.</summary>
    public async Task DropAsync(string sessionId)
    {
        if (_live.TryGetValue(sessionId, out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
        {
            var live = lazy.Value.Result;
            await live.Gate.WaitAsync();
            try
            {
                await DropAsync(live);
            }
            finally
            {
                live.Gate.Release();
            }
        }
    }

    private async Task SaveAsync(LiveSession live, CancellationToken cancellationToken)
    {
        try
        {
            // An acknowledged change must be stored even when the client goes away mid-save.
            await live.Session.SaveAsync(CancellationToken.None);
        }
        catch (VoxonStorageException ex)
        {
            // The change was not stored, so it was not acknowledged: the copy holding it goes, and the next request loads
            // the stored session. Kept, the change would be stored by the next save, and a client retrying after 503
            // would have its turn recorded twice.
            if (ex is SessionConcurrencyException)
            {
                logger.LogWarning("Session {SessionId} was saved elsewhere; dropping the stale copy.", live.Session.SessionId);
            }

            await DropAsync(live);
            throw;
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task<LiveSession> GetAsync(string sessionId, CancellationToken cancellationToken)
    {
        var lazy = _live.GetOrAdd(sessionId, id => new Lazy<Task<LiveSession>>(() => LoadAsync(id)));
        LiveSession live;
        try
        {
            live = await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            _live.TryRemove(new KeyValuePair<string, Lazy<Task<LiveSession>>>(sessionId, lazy));
            throw;
        }

        // Closed by the idle timeout (VoxonOptions.SessionTimeout), which saved it: the stored session is loaded afresh.
        if (!live.Session.IsActive)
        {
            _live.TryRemove(new KeyValuePair<string, Lazy<Task<LiveSession>>>(sessionId, lazy));
            return await GetAsync(sessionId, cancellationToken);
        }

        return live;
    }

    private async Task<LiveSession> LoadAsync(string sessionId)
    {
        var live = new LiveSession(await voxon.LoadSessionAsync(sessionId, CancellationToken.None));
        if (_openAtDrop.TryRemove(sessionId, out var open))
        {
            live.OpenBeforeReload.UnionWith(open);
        }

        EvictIfFull();
        return live;
    }

    /// <summary>Keeps a stored session that was just made (created or imported) live.</summary>
    public void Adopt(Session session)
    {
        var live = new LiveSession(session) { LastUsed = Interlocked.Increment(ref _clock) };
        _live[session.SessionId] = new Lazy<Task<LiveSession>>(Task.FromResult(live));
        EvictIfFull();
    }

    /// <summary>Past the limit, drops the least recently used idle sessions; they are stored, so nothing is lost.</summary>
    private void EvictIfFull()
    {
        if (_live.Count <= options.MaxLiveSessions)
        {
            return;
        }

        var idle = _live.Values
            .Where(l => l.IsValueCreated && l.Value.IsCompletedSuccessfully)
            .Select(l => l.Value.Result)
            .Where(l => l.Gate.CurrentCount == 1)
            .OrderBy(l => l.LastUsed)
            .Take(_live.Count - options.MaxLiveSessions)
            .ToList();
        foreach (var live in idle)
        {
            if (live.Gate.Wait(0))
            {
                try
                {
                    _ = DropAsync(live);
                }
                finally
                {
                    live.Gate.Release();
                }
            }
        }
    }

    /// <summary>Caller holds the session's gate.</summary>
    private async Task DropAsync(LiveSession live)
    {
        live.Dropped = true;
        RememberOpen(live);
        _live.TryRemove(live.Session.SessionId, out _);
        await live.Session.CloseAsync();
    }

    /// <summary>Keeps the conversations open in <paramref name="live"/> for its next copy; for as many sessions as are
    /// kept live, so sessions that never come back do not pile up (a forgotten one is merely resumed explicitly).</summary>
    private void RememberOpen(LiveSession live)
    {
        var id = live.Session.SessionId;
        string[] open = [.. live.Open.Where(c => c.Value.IsActive).Select(c => c.Key).Union(live.OpenBeforeReload)];
        if (open.Length == 0)
        {
            _openAtDrop.TryRemove(id, out _);
            return;
        }

        _openAtDrop[id] = open;
        while (_openAtDrop.Count > options.MaxLiveSessions && _openAtDrop.Keys.FirstOrDefault(k => k != id) is { } forgotten)
        {
            _openAtDrop.TryRemove(forgotten, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _live.Values.Where(l => l.IsValueCreated))
        {
            try
            {
                var live = await lazy.Value;
                await live.Session.CloseAsync();
            }
            catch (Exception ex) when (ex is VoxonException or ArgumentException)
            {
                // A session that never loaded has nothing to close.
            }
        }

        _live.Clear();
    }
}
