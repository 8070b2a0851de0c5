using System.Text.Json;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Voxon.Server.Hosting;

namespace Voxon.Server.Mcp;

/// <summary>MCP over streamable HTTP at <c>/mcp</c> (behind the API key), and over stdio for <c>voxon mcp --session ID</c>.</summary>
public static class McpEndpoints
{
    internal static void AddServices(IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddScoped<IMcpSessionScope, TenantSessionScope>();
        services.AddMcpServer().WithHttpTransport().WithMemoryTools();
    }

    internal static void Map(WebApplication app) => app.MapMcp("/mcp");

    /// <summary>The memory tools, with a call missing a required argument, or giving one of another JSON type than its
    /// schema says, answered by a tool error naming it: the SDK's own answer ("An error occurred invoking
    /// 'memory_search'.") tells a model nothing to correct, and the SDK logs it as a server failure with a stack trace.</summary>
    private static IMcpServerBuilder WithMemoryTools(this IMcpServerBuilder builder) =>
        builder.WithTools<MemoryTools>().WithRequestFilters(filters => filters.AddCallToolFilter(next => async (context, cancellationToken) =>
            context.MatchedPrimitive is McpServerTool tool && ArgumentProblems(tool.ProtocolTool, context.Params?.Arguments) is { Count: > 0 } problems
                ? new CallToolResult
                {
                    IsError = true,
                    Content = [new TextContentBlock { Text = $"'{tool.ProtocolTool.Name}' needs {string.Join(" and ", problems)} (see its input schema)." }],
                }
                : await next(context, cancellationToken)));

    /// <summary>The required arguments of <paramref name="tool"/> that <paramref name="arguments"/> lacks or gives as
    /// null, then those it gives as another JSON type than the schema's ("top_k as an integer").</summary>
    private static List<string> ArgumentProblems(Tool tool, IDictionary<string, JsonElement>? arguments)
    {
        var schema = tool.InputSchema;
        List<string> problems = schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array
            ? [.. required.EnumerateArray().Select(r => r.GetString()!).Where(name => arguments is null || !arguments.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)]
            : [];
        if (arguments is null || !schema.TryGetProperty("properties", out var properties))
        {
            return problems;
        }

        foreach (var (name, value) in arguments)
        {
            if (!problems.Contains(name) && properties.TryGetProperty(name, out var property) && property.TryGetProperty("type", out var type))
            {
                List<string?> types = type.ValueKind == JsonValueKind.Array ? [.. type.EnumerateArray().Select(t => t.GetString())] : [type.GetString()];
                if (!types.Any(t => Fits(t, value)))
                {
                    problems.Add($"{name} as {(types[0] is "integer" or "array" or "object" ? "an" : "a")} {types[0]}");
                }
            }
        }

        return problems;
    }

    private static bool Fits(string? type, JsonElement value) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        // The tools' integers are int parameters: 2.5 or 1e12 fails their binding just as "abc" does.
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out _),
        "number" => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out _),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        "array" => value.ValueKind == JsonValueKind.Array,
        "object" => value.ValueKind == JsonValueKind.Object,
        _ => true,
    };

    /// <summary>As <see cref="RunStdioAsync(VoxonOptions, string, CancellationToken)"/>, on the library <paramref name="options"/> configures.</summary>
    /// <exception cref="ArgumentException">The store or the id is malformed.</exception>
    public static Task RunStdioAsync(VoxonServerOptions options, string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return RunStdioAsync(options.CreateVoxonOptions(), sessionId, cancellationToken);
    }

    /// <summary>Serves the memory tools over stdin/stdout, scoped to session <paramref name="sessionId"/> of the
    /// library configured by <paramref name="voxonOptions"/>; returns when stdin closes.</summary>
    /// <exception cref="ArgumentException">The id breaks the id rules.</exception>
    /// <exception cref="Sessions.SessionNotFoundException">No such session.</exception>
    public static async Task RunStdioAsync(VoxonOptions voxonOptions, string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(voxonOptions);

        // stdout carries the protocol: every log goes to stderr, warnings and up, and the library's warm-up line.
        void Logging(ILoggingBuilder logging) => logging.ClearProviders()
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .SetMinimumLevel(LogLevel.Warning)
            .AddFilter(typeof(VoxonClient).FullName, LogLevel.Information);
        using var loggers = LoggerFactory.Create(Logging);
        voxonOptions.LoggerFactory ??= loggers;
        await using var voxon = new VoxonClient(voxonOptions);
        // Loaded before serving: a wrong id is a start-up error, not a tool error on every call.
        var session = await voxon.LoadSessionAsync(sessionId, cancellationToken);
        // Then the models load in the background, as the server's do at startup: the first memory_search would
        // otherwise wait about a second for them.
        var warmUp = VoxonServer.WarmUpAsync(voxon, loggers.CreateLogger(typeof(McpEndpoints)), cancellationToken);
        var builder = Host.CreateApplicationBuilder();
        Logging(builder.Logging);
        var scope = new FixedSessionScope(voxon, session);
        builder.Services.AddSingleton<IMcpSessionScope>(scope);
        builder.Services.AddMcpServer().WithStdioServerTransport().WithMemoryTools();
        using var host = builder.Build();
        try
        {
            await host.RunAsync(cancellationToken);
        }
        finally
        {
            await scope.CloseAsync();
            await warmUp;
        }
    }
}
