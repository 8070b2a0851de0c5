using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using OpenTelemetry;
using Voxon.Diagnostics;
using Voxon.Server.Api;
using Voxon.Server.Dashboard;
using Voxon.Server.Mcp;
using Voxon.Server.Tenancy;

namespace Voxon.Server.Hosting;

/// <summary>Builds the Voxon server: the REST API under <c>/v1</c>, MCP at <c>/mcp</c>, the dashboard at <c>/</c>,
/// <c>/healthz</c> and <c>/openapi/v1.json</c>.</summary>
public static class VoxonServer
{
    /// <summary>Activity source and meter of the server's own spans and counters.</summary>
    public const string TelemetryName = "Voxon.Server";

    /// <summary>Builds the application; <paramref name="args"/> are ASP.NET Core's (<c>--urls</c> and configuration).</summary>
    /// <exception cref="ArgumentException">The store is neither a folder nor a supported URL.</exception>
    public static WebApplication Build(VoxonServerOptions options, string[]? args = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);

        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(sp => new ApiKeyStore(options.ResolvedKeysPath));
        services.AddSingleton(sp =>
        {
            var voxonOptions = options.CreateVoxonOptions();
            voxonOptions.LoggerFactory ??= sp.GetRequiredService<ILoggerFactory>();
            return new VoxonClient(voxonOptions);
        });
        services.AddSingleton<SessionHost>();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            // Written by the framework (status code pages) with a title only: say what to send instead.
            if (context.ProblemDetails is { Status: StatusCodes.Status415UnsupportedMediaType, Detail: null } problem)
            {
                problem.Detail = "Send the body as JSON, with Content-Type: application/json.";
            }
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o => Configure(o.SerializerOptions));
        services.AddOpenApi();
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                Caller.Find(http) is { } key
                    ? RateLimitPartition.GetFixedWindowLimiter(key.KeyId, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = options.RateLimitPermits,
                        Window = options.RateLimitWindow,
                        QueueLimit = 0,
                    })
                    : RateLimitPartition.GetNoLimiter(string.Empty));
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry))
                {
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                await ProblemExceptionHandler.WriteAsync(context.HttpContext, new ProblemDetails
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too many requests",
                    Detail = $"This key may make {options.RateLimitPermits} requests per {options.RateLimitWindow.TotalSeconds:0} s.",
                });
            };
        });
        AddTelemetry(services);
        McpEndpoints.AddServices(services);

        var app = builder.Build();
        // The first call would otherwise wait about a second for the local embedding models.
        app.Lifetime.ApplicationStarted.Register(() => _ = WarmUpAsync(app.Services.GetRequiredService<VoxonClient>(), app.Logger, app.Lifetime.ApplicationStopping));
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseWebSockets();
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseRateLimiter();

        app.MapOpenApi();
        app.MapGet("/healthz", HealthAsync).WithTags("Health").WithName("Health");
        var v1 = app.MapGroup("/v1");
        SessionEndpoints.Map(v1);
        ConversationEndpoints.Map(v1);
        MemoryEndpoints.Map(v1);
        InsightEndpoints.Map(v1);
        ShareEndpoints.Map(v1);
        TransferEndpoints.Map(v1);
        TemplateEndpoints.Map(v1);
        KeyEndpoints.Map(v1);
        VoiceEndpoints.Map(v1);
        McpEndpoints.Map(app);
        DashboardEndpoints.Map(app);
        return app;
    }

    /// <summary>Warms <paramref name="voxon"/> up off the first caller's path (the HTTP server at startup, the stdio MCP
    /// server once its session is loaded); a failure is logged, not thrown: the first call loads what is missing.</summary>
    internal static async Task WarmUpAsync(VoxonClient voxon, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await voxon.WarmUpAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Warming up failed.");
        }
        catch (OperationCanceledException)
        {
            // Stopped before it finished.
        }
    }

    /// <summary>The API's JSON: snake_case names and enum values, nulls left out.</summary>
    internal static JsonSerializerOptions Configure(JsonSerializerOptions json)
    {
        json.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        json.DictionaryKeyPolicy = null;
        json.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        // A misspelt field (expires_at for expires_in_seconds) is a 400 naming it, not a request half applied.
        json.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        json.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return json;
    }

    private static async Task<IResult> HealthAsync(VoxonClient voxon, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        try
        {
            // A cheap read that goes through the backend: a folder listing, one query, one Redis call.
            await voxon.Storage.ListTemplatesAsync(cancellationToken);
            return Results.Ok(new Health("ok", voxon.Storage.BackendName));
        }
        catch (Exception ex) when (ex is VoxonException or IOException or UnauthorizedAccessException or TimeoutException)
        {
            loggers.CreateLogger(typeof(VoxonServer)).LogWarning(ex, "Health check: storage failed.");
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Storage unavailable", detail: $"{voxon.Storage.BackendName} storage did not answer.");
        }
    }

    /// <summary>Traces and metrics of the server, ASP.NET Core and the library; exported over OTLP only when the
    /// standard <c>OTEL_EXPORTER_OTLP_*</c> variables say where.</summary>
    private static void AddTelemetry(IServiceCollection services)
    {
        var telemetry = services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddSource(VoxonTelemetry.Name, TelemetryName, "Microsoft.AspNetCore"))
            .WithMetrics(metrics => metrics.AddMeter(VoxonTelemetry.Name, TelemetryName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"));
        if (OtlpConfigured())
        {
            telemetry.UseOtlpExporter();
        }
    }

    internal static bool OtlpConfigured() =>
        Environment.GetEnvironmentVariables().Keys.OfType<string>().Any(name => name.StartsWith("OTEL_EXPORTER_OTLP_", StringComparison.Ordinal));
}
