using Microsoft.Extensions.AI;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Tests.TestSupport;

/// <summary>Voxon over file storage in a temp folder, with no model from the environment (the offline engine
/// unless a chat client is given). Further clients over the same folder stand for a new process.</summary>
public sealed class TestVoxon : IAsyncDisposable
{
    private readonly TempFolder _folder = new();
    private readonly List<VoxonClient> _clients = [];
    private readonly Action<VoxonOptions>? _configure;

    public TestVoxon(IChatClient? chatClient = null, TimeProvider? time = null, Action<VoxonOptions>? configure = null)
    {
        ChatClient = chatClient;
        _configure = configure;
        Time = time ?? TimeProvider.System;
        StorageFolder = _folder.Combine("sessions");
        Storage = new FileSessionStorage(StorageFolder);
        Client = NewClient(Storage);
    }

    public IChatClient? ChatClient { get; }

    public TimeProvider Time { get; }

    /// <summary>The folder that holds the storage folder; nothing else should appear in it.</summary>
    public string Root => _folder.Path;

    public string StorageFolder { get; }

    public FileSessionStorage Storage { get; }

    public VoxonClient Client { get; }

    /// <summary>A second client over the same folder, as a new process would create.</summary>
    public VoxonClient NewClient(SessionStorage? storage = null)
    {
        var client = new VoxonClient(Options(storage ?? new FileSessionStorage(StorageFolder)));
        _clients.Add(client);
        return client;
    }

    public VoxonOptions Options(SessionStorage storage)
    {
        var options = new VoxonOptions
        {
            Storage = storage,
            ChatClient = ChatClient,
            UseEnvironment = false,
            TimeProvider = Time,
        };
        _configure?.Invoke(options);
        return options;
    }

    public Task<Session> CreateSessionAsync(SessionConfig? config = null, string userId = "alice") =>
        Client.CreateSessionAsync(userId, config);

    public string PathOf(string sessionId) => Path.Combine(StorageFolder, sessionId + ".json");

    /// <summary>The stored session as JSON in the spec's shape (what export and <c>voxon sessions show</c> read): the
    /// snapshot file itself is binary.</summary>
    public async Task<System.Text.Json.JsonDocument> StoredDocumentAsync(string sessionId) =>
        System.Text.Json.JsonDocument.Parse(SessionDocumentSerializer.Serialize((await new FileSessionStorage(StorageFolder).LoadAsync(sessionId))!));

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        _folder.Dispose();
    }
}
