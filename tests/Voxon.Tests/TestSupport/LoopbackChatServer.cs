using System.Net;
using System.Text;
using System.Text.Json;

namespace Voxon.Tests.TestSupport;

/// <summary>A minimal OpenAI Chat Completions server on 127.0.0.1 (only) and a free port. Records each request.
/// Answers whole or streamed (<c>"stream": true</c>: server-sent events, one word per chunk), and can answer with
/// queued tool calls first (<see cref="EnqueueToolCall"/>). Also <c>/v1/audio/transcriptions</c>, whole or streamed
/// (form field <c>stream=true</c>: <c>transcript.text.delta</c> events, one word each, then <c>transcript.text.done</c>).</summary>
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

    /// <summary>What <c>/v1/audio/transcriptions</c> hears in any audio.</summary>
    public string Transcript { get; set; } = "Hello";

    /// <summary>Status code of each answer; 200 sends a Chat Completions body.</summary>
    public int Status { get; set; } = 200;

    /// <summary>A streamed answer stops for <see cref="Stall"/> after this many words (a slow model), then goes on.</summary>
    public int? StallAfterWords { get; set; }

    /// <summary>How long a streamed answer stops after <see cref="StallAfterWords"/> words.</summary>
    public TimeSpan Stall { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Runs with each chat request's body before it is answered (for example, to change the store meanwhile).</summary>
    public Func<string, Task>? BeforeAnswer { get; set; }

    private readonly Queue<(string Name, string Arguments)> _toolCalls = new();
    private int _callIds;

    /// <summary>The next answer calls <paramref name="name"/> with <paramref name="argumentsJson"/> instead of replying.</summary>
    public void EnqueueToolCall(string name, string argumentsJson)
    {
        lock (_toolCalls)
        {
            _toolCalls.Enqueue((name, argumentsJson));
        }
    }

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
        var (listener, port) = LoopbackListener.Start();
        return new LoopbackChatServer(listener, port);
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
            if (context.Request.HttpMethod == "POST" && context.Request.Url.AbsolutePath == "/v1/audio/transcriptions")
            {
                if (StreamRequested.IsMatch(body))
                {
                    await StreamTranscriptAsync(response);
                }
                else
                {
                    await WriteAsync(response, "application/json", JsonSerializer.Serialize(new { text = Transcript }));
                }

                continue;
            }

            var found = context.Request.HttpMethod == "POST" && context.Request.Url.AbsolutePath == "/v1/chat/completions";
            response.StatusCode = found ? Status : 404;
            if (response.StatusCode != 200)
            {
                await WriteAsync(response, "application/json", """{"error":{"message":"boom","type":"server_error"}}""");
                continue;
            }

            if (BeforeAnswer is { } beforeAnswer)
            {
                await beforeAnswer(body);
            }

            (string Name, string Arguments)? toolCall = null;
            lock (_toolCalls)
            {
                if (_toolCalls.Count > 0)
                {
                    toolCall = _toolCalls.Dequeue();
                }
            }

            var call = toolCall is { } c ? new ToolCallReply($"call_{Interlocked.Increment(ref _callIds)}", c.Name, c.Arguments) : null;
            if (JsonDocument.Parse(body).RootElement.TryGetProperty("stream", out var stream) && stream.GetBoolean())
            {
                await StreamAsync(response, call);
            }
            else
            {
                await WriteAsync(response, "application/json", Completion(Reply, call));
            }
        }
    }

    private static async Task WriteAsync(HttpListenerResponse response, string contentType, string body)
    {
        response.ContentType = contentType;
        var payload = Encoding.UTF8.GetBytes(body);
        response.ContentLength64 = payload.Length;
        await response.OutputStream.WriteAsync(payload);
        response.Close();
    }

    private async Task StreamAsync(HttpListenerResponse response, ToolCallReply? call)
    {
        response.ContentType = "text/event-stream";
        response.SendChunked = true;
        var deltas = call is null
            ? System.Text.RegularExpressions.Regex.Matches(Reply, @"\S+\s*").Select(m => (object)new Dictionary<string, object> { ["content"] = m.Value }).ToList()
            : [new Dictionary<string, object> { ["tool_calls"] = new object[] { ToolCallJson(call, index: 0) } }];
        try
        {
            var first = true;
            var sent = 0;
            foreach (var delta in deltas)
            {
                if (first)
                {
                    ((Dictionary<string, object>)delta)["role"] = "assistant";
                    first = false;
                }

                if (sent++ == StallAfterWords)
                {
                    await Task.Delay(Stall);
                }

                await SendEventAsync(response, Chunk(delta, null));
            }

            await SendEventAsync(response, Chunk(new Dictionary<string, object>(), call is null ? "stop" : "tool_calls"));
            await response.OutputStream.WriteAsync("data: [DONE]\n\n"u8.ToArray());
            response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client stopped reading (a cancelled or interrupted stream).
            response.Abort();
        }
    }

    /// <summary>The multipart form field <c>stream</c> set to <c>true</c>.</summary>
    private static readonly System.Text.RegularExpressions.Regex StreamRequested = new("name=\"?stream\"?\r\n(?:[^\r\n]+\r\n)*\r\ntrue\r\n");

    /// <summary>A streamed transcription: one <c>transcript.text.delta</c> event per word, then <c>transcript.text.done</c>
    /// with the whole text.</summary>
    private async Task StreamTranscriptAsync(HttpListenerResponse response)
    {
        response.ContentType = "text/event-stream";
        response.SendChunked = true;
        try
        {
            foreach (var word in System.Text.RegularExpressions.Regex.Matches(Transcript, @"\S+\s*").Select(m => m.Value))
            {
                await SendEventAsync(response, JsonSerializer.Serialize(new { type = "transcript.text.delta", delta = word }));
            }

            await SendEventAsync(response, JsonSerializer.Serialize(new { type = "transcript.text.done", text = Transcript }));
            response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            response.Abort();
        }
    }

    private static async Task SendEventAsync(HttpListenerResponse response, string json)
    {
        await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes($"data: {json}\n\n"));
        await response.OutputStream.FlushAsync();
    }

    private static string Chunk(object delta, string? finishReason) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["id"] = "chatcmpl-test1",
        ["object"] = "chat.completion.chunk",
        ["created"] = 1_700_000_000,
        ["model"] = "test-model",
        ["choices"] = new object[] { new Dictionary<string, object?> { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason } },
    });

    private static Dictionary<string, object> ToolCallJson(ToolCallReply call, int? index) => new(index is { } i ? [new("index", i)] : [])
    {
        ["id"] = call.Id,
        ["type"] = "function",
        ["function"] = new Dictionary<string, object> { ["name"] = call.Name, ["arguments"] = call.Arguments },
    };

    private sealed record ToolCallReply(string Id, string Name, string Arguments);

    private static string Completion(string reply, ToolCallReply? call) => JsonSerializer.Serialize(new Dictionary<string, object>
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
                ["message"] = call is null
                    ? new Dictionary<string, object?> { ["role"] = "assistant", ["content"] = reply }
                    : new Dictionary<string, object?> { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new object[] { ToolCallJson(call, index: null) } },
                ["finish_reason"] = call is null ? "stop" : "tool_calls",
            },
        },
        ["usage"] = new Dictionary<string, int> { ["prompt_tokens"] = 20, ["completion_tokens"] = 5, ["total_tokens"] = 25 },
    });

    public async ValueTask DisposeAsync()
    {
        // Close alone: after Stop, the managed HttpListener's Close looks its port up again and binds it anew, which
        // failed with "Address already in use" whenever another test had taken the port in between.
        _listener.Close();
        await _loop;
    }
}

/// <summary>One request the loopback server received.</summary>
public sealed record RecordedHttpRequest(string Method, string Path, string? Authorization, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}
