using ModelContextProtocol;
using Voxon.Sessions;

namespace Voxon.Server.Mcp;

/// <summary>The stdio server's scope: one session, loaded at start; a call naming another is refused.</summary>
internal sealed class FixedSessionScope(Session session) : IMcpSessionScope
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<T> RunAsync<T>(string? sessionId, bool save, Func<Session, Task<T>> work, CancellationToken cancellationToken)
    {
        if (sessionId is not null && sessionId != session.SessionId)
        {
            throw new McpException($"This MCP server is scoped to session '{session.SessionId}'; it cannot touch session '{sessionId}'.");
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var result = await work(session);
            if (save)
            {
                await session.SaveAsync(CancellationToken.None);
            }

            return result;
        }
        finally
        {
            _gate.Release();
        }
    }
}
