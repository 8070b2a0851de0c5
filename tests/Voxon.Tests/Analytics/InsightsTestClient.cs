using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Tests.Analytics;

/// <summary>A client over a temporary folder with a fake clock, for analytics, adaptation, events and debug tests.</summary>
internal sealed class InsightsTestClient : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2024, 1, 15, 14, 30, 0, TimeSpan.Zero);

    private InsightsTestClient(string folder, FakeTimeProvider time, IChatClient? chat)
    {
        Folder = folder;
        Time = time;
        Chat = chat;
        Voxon = Open();
    }

    public string Folder { get; }

    public FakeTimeProvider Time { get; }

    public IChatClient? Chat { get; }

    public VoxonClient Voxon { get; private set; }

    public static InsightsTestClient Create(Func<FakeTimeProvider, IChatClient>? chat = null, DateTimeOffset? start = null)
    {
        var time = new FakeTimeProvider(start ?? Start);
        return new(Path.Combine(Path.GetTempPath(), "voxon-insights-" + Guid.NewGuid().ToString("N")), time, chat?.Invoke(time));
    }

    /// <summary>Another client over the same folder and clock, as a later process would be.</summary>
    public VoxonClient Open() => new(new VoxonOptions
    {
        Storage = new FileSessionStorage(Folder),
        UseEnvironment = false,
        TimeProvider = Time,
        ChatClient = Chat,

        // These tests read the turn requests a model receives; model extraction calls are covered in Memory/.
        ModelMemoryExtraction = false,
    });

    /// <summary>A session with one conversation in which the user says each of <paramref name="messages"/>, a minute apart.</summary>
    public async Task<Session> SessionWithAsync(SessionConfig? config, params string[] messages)
    {
        var session = await Voxon.CreateSessionAsync("user_1", config);
        var conversation = await session.StartConversationAsync();
        foreach (var message in messages)
        {
            await conversation.SendMessageAsync(message);
            Time.Advance(TimeSpan.FromMinutes(1));
        }

        return session;
    }

    public async ValueTask DisposeAsync()
    {
        await Voxon.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
