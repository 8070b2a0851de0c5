using System.Text.Json;

namespace Voxon.Server.Api;

/// <summary>Writes <c>text/event-stream</c> events; the headers go out with the first event, so an error found before
/// it still gets a normal ProblemDetails response.</summary>
internal sealed class ServerSentEvents(HttpResponse response, JsonSerializerOptions json)
{
    public bool Started { get; private set; }

    public async Task WriteAsync(string name, object data, CancellationToken cancellationToken)
    {
        if (!Started)
        {
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            Started = true;
        }

        await response.WriteAsync($"event: {name}\ndata: {JsonSerializer.Serialize(data, json)}\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
