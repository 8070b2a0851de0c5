using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Voxon.Tests.TestSupport;

/// <summary>A minimal OpenAI Chat Completions server on 127.0.0.1 (only) and a free port. Records each request.</summary>
public sealed class LoopbackChatServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Task _loop;
    private readonly List<RecordedHttpRequest> _requests = [];

    private LoopbackChatServer(HttpListener listener, int port)
    {
        _listener = listener;
        Port = port;
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public Uri Endpoint => new($"http://127.0.0.1:{Port}/v1");

    public IReadOnlyCollection<string> Prefixes => [.. _listener.Prefixes];

    /// <summary>What the assistant message of each answer says.</summary>
    public string Reply { get; set; } = "Hello from loopback";

    /// <summary>Status code of each answer; 200 sends a Chat Completions body.</summary>
    public int Status { get; set; } = 200;

    public IReadOnlyList<RecordedHttpRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public static LoopbackChatServer Start()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return new LoopbackChatServer(listener, port);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close();
            }
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            lock (_requests)
            {
                _requests.Add(new RecordedHttpRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.Headers["Authorization"], body));
            }

            var response = context.Response;
            var found = context.Request.HttpMethod == "POST" && context.Request.Url.AbsolutePath == "/v1/chat/completions";
            response.StatusCode = found ? Status : 404;
            response.ContentType = "application/json";
            var payload = Encoding.UTF8.GetBytes(response.StatusCode == 200 ? Completion(Reply) : """{"error":{"message":"boom","type":"server_error"}}""");
            response.ContentLength64 = payload.Length;
            await response.OutputStream.WriteAsync(payload);
            response.Close();
        }
    }

    private static string Completion(string reply) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["id"] = "chatcmpl-test1",
        ["object"] = "chat.completion",
        ["created"] = 1_700_000_000,
        ["model"] = "test-model",
        ["choices"] = new object[]
        {
            new Dictionary<string, object>
            {
                ["index"] = 0,
                ["message"] = new Dictionary<string, object> { ["role"] = "assistant", ["content"] = reply },
                ["finish_reason"] = "stop",
            },
        },
        ["usage"] = new Dictionary<string, int> { ["prompt_tokens"] = 20, ["completion_tokens"] = 5, ["total_tokens"] = 25 },
    });

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}

/// <summary>One request the loopback server received.</summary>
public sealed record RecordedHttpRequest(string Method, string Path, string? Authorization, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}
