using Microsoft.AspNetCore.Mvc;

namespace Voxon.Server.Tenancy;

/// <summary>Every request outside the open paths (<c>/</c>, the dashboard's files, <c>/healthz</c>, <c>/openapi</c>)
/// needs <c>Authorization: Bearer KEY</c> (WebSockets may carry it otherwise, see <see cref="Secret"/>); a missing or unknown key gets 401 before any endpoint runs.</summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeyStore keys)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!NeedsKey(context.Request.Path))
        {
            await next(context);
            return;
        }

        var secret = Secret(context);
        if (keys.Find(secret) is not { } key)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Hosting.ProblemExceptionHandler.WriteAsync(context, new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = secret is null ? "Send an API key as 'Authorization: Bearer KEY'." : "The API key is unknown or revoked.",
            });
            return;
        }

        Caller.Set(context, key);
        await next(context);
    }

    /// <summary>The key from <c>Authorization: Bearer KEY</c>; a WebSocket request, which a browser cannot give headers,
    /// may instead offer the subprotocol <c>bearer.KEY</c> or the query parameter <c>access_token</c>.</summary>
    private static string? Secret(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header[7..].Trim();
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            return null;
        }

        return context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault(p => p.StartsWith(BearerProtocol, StringComparison.Ordinal))?[BearerProtocol.Length..]
            ?? (context.Request.Query.TryGetValue("access_token", out var token) ? token.ToString() : null);
    }

    /// <summary>Prefix of the WebSocket subprotocol that carries the key.</summary>
    public const string BearerProtocol = "bearer.";

    private static bool NeedsKey(PathString path) =>
        path.StartsWithSegments("/v1") || path.StartsWithSegments("/mcp");
}
