using Voxon.Sessions;

namespace Voxon.Server.Mcp;

/// <summary>Which session an MCP tool call may touch: the one fixed at start (stdio), or one the caller's tenant owns (HTTP).</summary>
internal interface IMcpSessionScope
{
    /// <summary>Runs <paramref name="work"/> on the session the call names (or the fixed one); saves after it when <paramref name="save"/>.</summary>
    /// <exception cref="ModelContextProtocol.McpException">The call names a session outside the scope, or none where one is needed.</exception>
    Task<T> RunAsync<T>(string? sessionId, bool save, Func<Session, Task<T>> work, CancellationToken cancellationToken);
}
