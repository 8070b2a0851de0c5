using Microsoft.AspNetCore.Mvc;

namespace Voxon.Server.Tenancy;

/// <summary>Every request outside the open paths (<c>/</c>, the dashboard's files, <c>/healthz</c>, <c>/openapi</c>)
/// needs <c>Authorization: Bearer KEY</c>; a missing or unknown key gets 401 before any endpoint runs.</summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeyStore keys, IProblemDetailsService problems)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!NeedsKey(context.Request.Path))
        {
            await next(context);
            return;
        }

        var header = context.Request.Headers.Authorization.ToString();
        var secret = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
        if (keys.Find(secret) is not { } key)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status401Unauthorized,
                    Title = "Unauthorized",
                    Detail = secret is null ? "Send an API key as 'Authorization: Bearer KEY'." : "The API key is unknown or revoked.",
                },
            });
            return;
        }

        Caller.Set(context, key);
        await next(context);
    }

    private static bool NeedsKey(PathString path) =>
        path.StartsWithSegments("/v1") || path.StartsWithSegments("/mcp");
}
