using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using Voxon.Context;
using Voxon.Engine;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Tests.Memory;

/// <summary>A Voxon client over a temporary folder, a fake clock and a chat client that records what it was sent.</summary>
internal sealed class MemoryTestHost : IAsyncDisposable
{
    public MemoryTestHost(IChatClient? chat = null, ContextWeaverOptions? weaver = null)
    {
        Folder = Path.Combine(Path.GetTempPath(), "voxon-tests-" + Guid.NewGuid().ToString("N"));
        Chat = new CapturingChatClient(chat ?? new OfflineChatClient());
        Weaver = weaver ?? new ContextWeaverOptions();
    }

    public string Folder { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero));

    public CapturingChatClient Chat { get; }

    public ContextWeaverOptions Weaver { get; }

    public VoxonClient NewClient() => new(new VoxonOptions
    {
        Storage = new FileSessionStorage(Folder),
        UseEnvironment = false,
        TimeProvider = Time,
        ChatClient = Chat,
        ContextWeaver = Weaver,
    });

    public async Task<Session> NewSessionAsync(SessionConfig? config = null) =>
        await NewClient().CreateSessionAsync("user_1", config ?? new SessionConfig());

    /// <summary>A saved session as JSON in the spec's shape, read back through the storage (the snapshot file is binary).</summary>
    public string StoredJson(string sessionId) =>
        System.Text.Encoding.UTF8.GetString(SessionDocumentSerializer.Serialize(new FileSessionStorage(Folder).LoadAsync(sessionId).GetAwaiter().GetResult()!));

    /// <summary>The bytes of a saved session's snapshot file as text, to look for what must never be stored.</summary>
    public string StoredFileText(string sessionId) => File.ReadAllText(Path.Combine(Folder, sessionId + ".json"));

    public ValueTask DisposeAsync()
    {
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Passes calls through to an inner client and keeps every request it saw.</summary>
internal sealed class CapturingChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public List<List<ChatMessage>> Requests { get; } = [];

    /// <summary>All text of the last request's system messages.</summary>
    public string LastSystemText => string.Join("\n", Requests[^1].Where(m => m.Role == ChatRole.System).Select(m => m.Text));

    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        Requests.Add(list);
        return base.GetResponseAsync(list, options, cancellationToken);
    }
}

/// <summary>A model that always answers with the given text.</summary>
internal sealed class FixedChatClient(string answer) : IChatClient
{
    public int Calls { get; private set; }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Calls++;
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, answer)));
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Not used by these tests.");

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
