using System.Diagnostics;
using Microsoft.Extensions.AI;
using Voxon.Engine;
using Voxon.Memory.Search;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Benchmarks;

/// <summary>
/// Harness "streaming" (issue 9): what a streamed turn adds before the first chunk. Each iteration streams a turn
/// through Voxon (1,000 memories) and then calls the same <see cref="IChatClient"/> directly with exactly the messages
/// Voxon sent, and records the difference of the two times to first chunk. The direct call goes second, so it gets the
/// warmer caches: the difference errs towards overstating Voxon's overhead. The embedding of the same words is timed
/// alone too, since weaving needs it before the model can be called and it is most of the difference.
/// </summary>
public static class StreamingBenchmarks
{
    private const int Iterations = 300;

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

            var throughVoxon = new double[Iterations];
            var direct = new double[Iterations];
            var overhead = new double[Iterations];
            var embedding = new double[Iterations];
            for (var i = -20; i < Iterations; i++)
            {
                var words = Questions[(i + 20) % Questions.Length];
                var voxonMs = await FirstChunkAsync(conversation.StreamMessageAsync(words));
                var directMs = await FirstChunkAsync(model.Inner.GetStreamingResponseAsync(model.LastMessages!));
                var started = Stopwatch.GetTimestamp();
                await ArcticXsEmbeddingGenerator.Shared.GenerateAsync([words]);
                var embedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (i >= 0)
                {
                    (throughVoxon[i], direct[i], overhead[i], embedding[i]) = (voxonMs, directMs, voxonMs - directMs, embedMs);
                }
            }

            Harness.Print("first chunk through Voxon (1,000 memories)", throughVoxon);
            Harness.Print("first chunk from the same IChatClient, same messages", direct);
            Harness.Print("overhead (Voxon - direct, paired per turn)", overhead);
            Harness.Print("  of which: embedding the user's words (arctic-embed-xs, the default model)", embedding);
            Harness.Print("overhead without the embedding (paired)", [.. overhead.Zip(embedding, (o, e) => o - e)]);
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
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
