using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;
using Voxon.Conversations;
using Voxon.Engine;
using Voxon.Memory.Search;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Benchmarks;

/// <summary>
/// Harness "streaming" (issue 9): what a streamed turn adds before the first chunk. Each iteration streams a turn
/// through Voxon (1,000 memories) and then calls the same <see cref="IChatClient"/> directly with exactly the messages
/// Voxon sent, and records the difference of the two times to first chunk; once with words said before (their query
/// embedding is cached), once with new words, and once with new words prepared by <see cref="Conversation.PrepareAsync"/>
/// (awaited before the timed turn, as the end-of-speech silence allows when the interim transcript is the final one). The direct call goes second, so it gets the warmer caches: the
/// difference errs towards overstating Voxon's overhead. The model's embedding of new words is timed alone too, since
/// weaving needs it before the model can be called and it is most of the difference for new words.
/// Run: <c>dotnet run -c Release --project bench/Voxon.Benchmarks -- harness streaming</c>.
/// </summary>
public static class StreamingBenchmarks
{
    private const int Iterations = 300;

    // Enough turns that JIT tiering (which compiles on a background thread, taking a core of two) is done before timing.
    private const int Warmup = 100;

    internal static readonly string[] Questions =
    [
        "What's my name and interest?", "Tell me about project 12", "What do I like?", "Which deadline is on day 5?",
        "Remind me of topic 7", "Who am I?", "What was project 301 about?", "Anything due on day 20?",
    ];

    public static void RegisterHarnesses() => Harness.Register("streaming", RunAsync);

    private static async Task RunAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "voxon-bench-streaming-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var model = new CapturingChatClient(new OfflineChatClient());
            await using var voxon = new VoxonClient(new VoxonOptions { Storage = new FileSessionStorage(folder), ChatClient = model, UseEnvironment = false });
            var session = await voxon.CreateSessionAsync("bench", new SessionConfig { MemoryMode = MemoryMode.Persistent, MaxMemorySize = 1_000_000 });
            for (var i = 0; i < 1_000; i++)
            {
                await session.AddMemoryAsync(CoreBenchmarks.Note(i), "note", 0.5);
            }

            var conversation = await session.StartConversationAsync();
            await conversation.SendMessageAsync("My name is Alice");
            await conversation.SendMessageAsync("I'm interested in quantum physics");

            // Two kinds of turn, interleaved, each paired with a direct call of the same client with the same messages:
            // words said before (the 8 questions in turn; their query embedding is cached after the first round), and
            // words never said before (numbered), whose embedding the model must compute on the path to the first chunk.
            var repeated = new Pairs(Iterations);
            var fresh = new Pairs(Iterations);
            var prepared = new Pairs(Iterations);
            var embedding = new double[Iterations];
            for (var i = -Warmup; i < Iterations; i++)
            {
                var at = i < 0 ? null : (int?)i;
                await repeated.MeasureAsync(at, conversation, model, Questions[(i + Warmup) % Questions.Length]);
                await fresh.MeasureAsync(at, conversation, model, NewWords(i));
                await conversation.PrepareAsync(NewWords(i + 100_000));
                await prepared.MeasureAsync(at, conversation, model, NewWords(i + 100_000));
                var started = Stopwatch.GetTimestamp();
                await ArcticXsEmbeddingGenerator.Shared.GenerateAsync([NewWords(i) + "?"], LocalEmbeddingGenerator.QueryOptions);
                if (at is { } k)
                {
                    embedding[k] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
            }

            repeated.Print("words said before");
            fresh.Print("new words");
            prepared.Print("new words prepared");
            Harness.Print("  embedding new words alone (arctic-embed-xs, the default model, as a query)", embedding);
            Harness.Print("new words: overhead minus that embedding (paired)", [.. fresh.Overhead.Zip(embedding, (o, e) => o - e)]);
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>A question of the same shape as <see cref="Questions"/> that no earlier turn asked.</summary>
    private static string NewWords(int i) => string.Create(CultureInfo.InvariantCulture, $"What did I say about project {i + 5_000} and its deadline?");

    /// <summary>Paired times to first chunk: through Voxon, then the same client directly with the messages Voxon sent.</summary>
    private sealed class Pairs(int iterations)
    {
        public double[] Voxon { get; } = new double[iterations];

        public double[] Direct { get; } = new double[iterations];

        public double[] Overhead { get; } = new double[iterations];

        public async Task MeasureAsync(int? at, Conversation conversation, CapturingChatClient model, string words)
        {
            var voxonMs = await FirstChunkAsync(conversation.StreamMessageAsync(words));
            var directMs = await FirstChunkAsync(model.Inner.GetStreamingResponseAsync(model.LastMessages!));
            if (at is { } i)
            {
                (Voxon[i], Direct[i], Overhead[i]) = (voxonMs, directMs, voxonMs - directMs);
            }
        }

        public void Print(string label)
        {
            Harness.Print($"{label}: first chunk through Voxon (1,000 memories)", Voxon);
            Harness.Print($"{label}: first chunk from the same IChatClient directly", Direct);
            Harness.Print($"{label}: overhead (Voxon - direct, paired per turn)", Overhead);
        }
    }

    /// <summary>Milliseconds to the first chunk; the rest of the stream is drained untimed (Voxon records the turn then).</summary>
    private static async Task<double> FirstChunkAsync<T>(IAsyncEnumerable<T> stream)
    {
        var started = Stopwatch.GetTimestamp();
        await using var chunks = stream.GetAsyncEnumerator();
        await chunks.MoveNextAsync();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        while (await chunks.MoveNextAsync())
        {
        }

        return elapsed;
    }

    /// <summary>Passes calls through and keeps the messages of the last one, so the direct call can replay them.</summary>
    private sealed class CapturingChatClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        public IChatClient Inner => InnerClient;

        public List<ChatMessage>? LastMessages { get; private set; }

        public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            LastMessages = [.. messages];
            return base.GetStreamingResponseAsync(LastMessages, options, cancellationToken);
        }
    }
}
