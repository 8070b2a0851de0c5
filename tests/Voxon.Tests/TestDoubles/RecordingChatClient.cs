using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;

namespace Voxon.Tests;

/// <summary>An <see cref="IChatClient"/> that records what it is sent and answers "Noted."; optionally takes time on the fake clock.</summary>
internal sealed class RecordingChatClient(FakeTimeProvider? time = null, TimeSpan? latency = null) : IChatClient
{
    public List<List<ChatMessage>> Calls { get; } = [];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        lock (Calls)
        {
            Calls.Add([.. messages]);
        }

        if (time is not null && latency is { } delay)
        {
            time.Advance(delay);
        }

        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Noted.")));
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }

    /// <summary>Every text sent, all calls.</summary>
    public string AllText
    {
        get
        {
            lock (Calls)
            {
                return string.Join("\n", Calls.SelectMany(c => c).Select(m => m.Text));
            }
        }
    }

    /// <summary>The system messages of the last call after the instructions: the woven context.</summary>
    public string LastContext()
    {
        lock (Calls)
        {
            return string.Join("\n", Calls[^1].Skip(1).Where(m => m.Role == ChatRole.System).Select(m => m.Text));
        }
    }
}
