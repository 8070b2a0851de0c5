using Voxon.Server.Hosting;

namespace Voxon.Server.Mcp;

/// <summary>MCP over streamable HTTP at <c>/mcp</c> (behind the API key), and over stdio for <c>voxon mcp --session ID</c>.</summary>
public static class McpEndpoints
{
    internal static void AddServices(IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddScoped<IMcpSessionScope, TenantSessionScope>();
        services.AddMcpServer().WithHttpTransport().WithTools<MemoryTools>();
    }

    internal static void Map(WebApplication app) => app.MapMcp("/mcp");

    /// <summary>Serves the memory tools over stdin/stdout, scoped to session <paramref name="sessionId"/> of the
    /// library configured by <paramref name="options"/>; returns when stdin closes.</summary>
    /// <exception cref="ArgumentException">The id breaks the id rules.</exception>
    /// <exception cref="Sessions.SessionNotFoundException">No such session.</exception>
    public static async Task RunStdioAsync(VoxonServerOptions options, string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        await using var voxon = new VoxonClient(options.CreateVoxonOptions());
        // Loaded before serving: a wrong id is a start-up error, not a tool error on every call.
        var session = await voxon.LoadSessionAsync(sessionId, cancellationToken);
        var scope = new FixedSessionScope(session);
        var builder = Host.CreateApplicationBuilder();
        // stdout carries the protocol: every log goes to stderr.
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IMcpSessionScope>(scope);
        builder.Services.AddMcpServer().WithStdioServerTransport().WithTools<MemoryTools>();
        using var host = builder.Build();
        try
        {
            await host.RunAsync(cancellationToken);
        }
        finally
        {
            await session.CloseAsync(CancellationToken.None);
        }
    }
}
