using ModelContextProtocol;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Server.Mcp;

/// <summary>The stdio server's scope: one session, loaded at start; a call naming another is refused.</summary>
internal sealed class FixedSessionScope(VoxonClient voxon, Session session) : IMcpSessionScope
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _sessionId = session.SessionId;
    private Session _session = session;

    public async Task<T> RunAsync<T>(string? sessionId, bool save, Func<Session, Task<T>> work, CancellationToken cancellationToken)
    {
        if (sessionId is not null && sessionId != _sessionId)
        {
            throw new McpException($"This MCP server is scoped to session '{_sessionId}'; it cannot touch session '{sessionId}'.");
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            // Closed by the idle timeout (which saved it) or dropped after a failed save: the stored session is loaded afresh.
            if (!_session.IsActive)
            {
                _session = await voxon.LoadSessionAsync(_sessionId, cancellationToken);
            }

            var result = await work(_session);
            if (save)
            {
                try
                {
                    await _session.SaveAsync(CancellationToken.None);
                }
                catch (VoxonStorageException)
                {
                    // Not stored, so not acknowledged: the copy holding the change goes, as the HTTP server's does. Kept,
                    // it would fail every later save once another writer saved the session, and a retried call would be
                    // stored twice.
                    await _session.CloseAsync(CancellationToken.None);
                    throw;
                }
            }

            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes the session in use without saving: every call saved what it changed.</summary>
    public async Task CloseAsync()
    {
        await _gate.WaitAsync();
        try
        {
            await _session.CloseAsync(CancellationToken.None);
        }
        finally
        {
            _gate.Release();
        }
    }
}
