using System.Globalization;
using BenchmarkDotNet.Attributes;
using Voxon.Conversations;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Benchmarks;

/// <summary>
/// Allocations and mean time of one turn with the offline engine at 1,000 memories (issue 15), whole and streamed,
/// with words said before (their embeddings cached) and with new words (the model embeds them). Percentiles are
/// the "core" and "streaming" harnesses' job; this class reports what a turn allocates, per operation. Each iteration
/// starts a new conversation, so the history the engine gets stays short as it would in a call.
/// Run: <c>dotnet run -c Release --project bench/Voxon.Benchmarks -- --filter '*TurnBenchmarks*'</c>.
/// </summary>
[MemoryDiagnoser]
[InProcess]
[WarmupCount(8)]
[IterationCount(12)]
[InvocationCount(48, 1)]
public class TurnBenchmarks
{
    private static readonly string[] SaidBefore = ["What's my name and interest?", "Tell me about project 12", "What do I like?", "Who am I?"];

    private string _folder = "";
    private VoxonClient? _voxon;
    private Session? _session;
    private Conversation? _conversation;
    private int _turn;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [IterationSetup]
    public void NewConversation()
    {
        _conversation?.EndAsync().GetAwaiter().GetResult();
        _conversation = _session!.StartConversationAsync().GetAwaiter().GetResult();
        _conversation.SendMessageAsync("My name is Alice").GetAwaiter().GetResult();
        _conversation.SendMessageAsync("I'm interested in quantum physics").GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _voxon?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Benchmark(Description = "SendMessageAsync, words said before")]
    public Task<string> SendSaidBefore() => _conversation!.SendMessageAsync(SaidBefore[_turn++ % SaidBefore.Length]);

    [Benchmark(Description = "SendMessageAsync, new words")]
    public Task<string> SendNewWords() => _conversation!.SendMessageAsync(NewWords(_turn++));

    [Benchmark(Description = "StreamMessageAsync (all chunks), words said before")]
    public async Task<int> StreamSaidBefore()
    {
        var chunks = 0;
        await foreach (var _ in _conversation!.StreamMessageAsync(SaidBefore[_turn++ % SaidBefore.Length]))
        {
            chunks++;
        }

        return chunks;
    }

    private static string NewWords(int i) => string.Create(CultureInfo.InvariantCulture, $"What did I say about project {i + 5_000} and its deadline?");

    private async Task SetupAsync()
    {
        _folder = Path.Combine(Path.GetTempPath(), "voxon-bench-turn-" + Guid.NewGuid().ToString("N")[..8]);
        _voxon = new VoxonClient(new VoxonOptions { Storage = new FileSessionStorage(_folder), UseEnvironment = false });
        _session = await _voxon.CreateSessionAsync("bench", new SessionConfig { MemoryMode = MemoryMode.Persistent, MaxMemorySize = 1_000_000 });
        for (var i = 0; i < 1_000; i++)
        {
            await _session.AddMemoryAsync(CoreBenchmarks.Note(i), "note", 0.5);
        }
    }
}
