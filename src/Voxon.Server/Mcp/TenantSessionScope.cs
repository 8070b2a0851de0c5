using ModelContextProtocol;
using Voxon.Server.Hosting;
using Voxon.Server.Tenancy;
using Voxon.Sessions;

namespace Voxon.Server.Mcp;

/// <summary>The HTTP server's scope: any session of the calling key's tenant, named by the call; another tenant's
/// session is "not found", as on the REST API.</summary>
internal sealed class TenantSessionScope(IHttpContextAccessor http, SessionHost host) : IMcpSessionScope
{
    public Task<T> RunAsync<T>(string? sessionId, bool save, Func<Session, Task<T>> work, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(sessionId))
        {
            throw new McpException("Name the session: pass session_id (a session of your tenant).");
        }

        var context = http.HttpContext ?? throw new McpException("No HTTP request behind this call.");
        return host.RunAsync(context.Tenant(), sessionId, save, live => work(live.Session), cancellationToken);
    }
}
