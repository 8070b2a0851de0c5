using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Voxon.Engine;
using Voxon.Engine.Realtime;
using Voxon.Migration;
using Voxon.Retention;
using Voxon.Server.Tenancy;
using Voxon.Sessions;
using Voxon.Sharing;
using Voxon.Storage;
using Voxon.Templates;

namespace Voxon.Server.Hosting;

/// <summary>Turns every failure into ProblemDetails with the status that says what went wrong; library messages are
/// written for users, so they become the detail, while unexpected failures say nothing of the server's insides.</summary>
internal sealed class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = Describe(exception);
        if (status >= 500)
        {
            logger.LogError(exception, "Request {Method} {Path} failed.", httpContext.Request.Method, httpContext.Request.Path);
        }

        if (exception is ApiKeyStoreBusyException)
        {
            // Another writer holds the key file for milliseconds as a rule: a retry shortly after is expected to succeed.
            httpContext.Response.Headers.RetryAfter = "2";
        }

        await WriteAsync(httpContext, new ProblemDetails { Status = status, Title = title, Detail = detail }, exception);
        return true;
    }

    /// <summary>Answers <paramref name="problem"/> (its status and a ProblemDetails body) whatever the request accepts.
    /// ASP.NET Core's writer declines a client that accepts only <c>text/event-stream</c> (a streamed message) or
    /// <c>text/html</c> (a browser): the error went out without a body, and a 404 became an empty 500.</summary>
    internal static async Task WriteAsync(HttpContext httpContext, ProblemDetails problem, Exception? exception = null)
    {
        httpContext.Response.StatusCode = problem.Status ?? StatusCodes.Status500InternalServerError;
        var problems = httpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (!await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, Exception = exception, ProblemDetails = problem }))
        {
            await TypedResults.Problem(problem).ExecuteAsync(httpContext);
        }
    }

    internal static (int Status, string Title, string? Detail) Describe(Exception exception) => exception switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            (413, "Request body too large", exception.Message),
        BadHttpRequestException bad => (bad.StatusCode, "Bad request", Inner(bad)),
        JsonException => (400, "Bad request", "The body is not valid JSON of the expected shape: " + exception.Message),
        SessionNotFoundException => (404, "Not found", exception.Message),
        InvalidShareTokenException => (404, "Not found", exception.Message),
        KeyNotFoundException => (404, "Not found", exception.Message),
        SessionConcurrencyException => (409, "Stale version", exception.Message),
        SessionStateException => (409, "Conflict", exception.Message),
        SharePermissionException or UnauthorizedAccessException => (403, "Forbidden", exception.Message),
        VoxonConfigurationException => (400, "Invalid config", exception.Message),
        SessionTemplateException => (400, "Invalid template", exception.Message),
        SessionImportException => (400, "Invalid import", exception.Message),
        ArgumentException arg => (400, "Bad request", arg.ParamName is { } name ? arg.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : arg.Message),
        SessionCorruptException => (500, "Stored session unreadable", exception.Message),
        RealtimeConnectionException => (502, "Realtime service unavailable", exception.Message),
        SessionLimitException => (409, "Session limit reached", exception.Message),
        // Its message can carry the model's address or the provider's error text: logged, not shown to the tenant.
        EngineException => (502, "Model unavailable", "The model did not answer; try again."),
        VoxonStorageException => (503, "Storage unavailable", "The session storage failed; try again."),
        ApiKeyStoreBusyException => (503, "Key store busy", exception.Message),
        OperationCanceledException => (499, "Cancelled", null),
        _ => (500, "Internal error", "The server failed; the error is logged."),
    };

    /// <summary>The binder wraps the JSON reader's error; its message is the useful one.</summary>
    private static string Inner(BadHttpRequestException bad) =>
        bad.InnerException is JsonException json ? $"{bad.Message} {json.Message}" : bad.Message;
}
