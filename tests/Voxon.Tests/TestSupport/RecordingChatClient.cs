using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using Voxon.Engine;

namespace Voxon.Tests;

/// <summary>An <see cref="IChatClient"/> that records every request and answers with the offline engine
/// (or a fixed reply, or throws), so tests can assert on exactly what the session sent. It presents itself as the
/// offline engine (<see cref="GetService"/>), so no model-only calls (memory extraction, analysis) are made.
/// With a fake clock and a latency it takes that long on the clock for each call.</summary>
public sealed class RecordingChatClient(FakeTimeProvider? time = null, TimeSpan? latency = null) : IChatClient
{
    private readonly OfflineChatClient _offline = new();
    private readonly List<ChatRequest> _requests = [];

    /// <summary>When set, every call returns this text instead of the offline engine's answer.</summary>
    public string? FixedReply { get; set; }

    /// <summary>When set, every call throws this exception.</summary>
    public Exception? Failure { get; set; }

    public IReadOnlyList<ChatRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public ChatRequest Last => Requests[^1];

    /// <summary>When set, every call waits until it is cancelled (a model that never answers).</summary>
    public bool Hang { get; set; }

    /// <summary>Chunks each streamed call has handed out, all calls.</summary>
    public int StreamedChunks => Volatile.Read(ref _streamedChunks);

    private int _streamedChunks;

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var copy = messages.ToList();
        lock (_requests)
        {
            _requests.Add(new ChatRequest(copy, options));
        }

        if (time is not null && latency is { } delay)
        {
            time.Advance(delay);
        }

        if (Failure is not null)
        {
            throw Failure;
        }

        if (Hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        return FixedReply is null
            ? await _offline.GetResponseAsync(copy, options, cancellationToken)
            : new ChatResponse(new ChatMessage(ChatRole.Assistant, FixedReply));
    }

    /// <summary>The same answer as <see cref="GetResponseAsync"/>, word by word; the latency passes before the first word.</summary>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var word in System.Text.RegularExpressions.Regex.Matches(response.Text, @"\S+\s*").Select(m => m.Value))
        {
            cancellationToken.ThrowIfCancellationRequested();
            Interlocked.Increment(ref _streamedChunks);
            yield return new ChatResponseUpdate(ChatRole.Assistant, word);
            await Task.Yield();
        }
    }

    /// <summary>Every text sent, all calls.</summary>
    public string AllText => string.Join("\n", Requests.SelectMany(r => r.Messages).Select(m => m.Text));

    /// <summary>The system messages of the last call after the instructions: the woven context.</summary>
    public string LastContext() => string.Join("\n", Last.System.Skip(1).Select(m => m.Text));

    public object? GetService(Type serviceType, object? serviceKey = null) => _offline.GetService(serviceType, serviceKey);

    public void Dispose()
    {
    }
}

/// <summary>One call the session made to the model.</summary>
public sealed record ChatRequest(IReadOnlyList<ChatMessage> Messages, ChatOptions? Options)
{
    public IEnumerable<ChatMessage> System => Messages.Where(m => m.Role == ChatRole.System);

    public IReadOnlyList<(ChatRole Role, string Text)> Dialogue =>
        [.. Messages.Where(m => m.Role != ChatRole.System).Select(m => (m.Role, m.Text))];
}
