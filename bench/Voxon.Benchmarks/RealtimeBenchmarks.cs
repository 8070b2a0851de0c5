using System.Diagnostics;
using Voxon.Engine.Realtime;
using Voxon.Memory.Search;
using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Tests.TestSupport;

namespace Voxon.Benchmarks;

/// <summary>
/// Harness "realtime" (issue 9): in a voice conversation over the loopback realtime server (a real WebSocket on
/// 127.0.0.1), the time from the server sending <c>conversation.item.input_audio_transcription.completed</c> to it
/// receiving the <c>session.update</c> carrying the context re-woven for those words, with 1,000 memories in the
/// session. It includes both socket hops, the embedding of the words (MiniLM) and the weave. Run:
/// <c>dotnet run -c Release --project bench/Voxon.Benchmarks -- harness realtime</c>.
/// </summary>
public static class RealtimeBenchmarks
{
    private const int Iterations = 300;

    public static void RegisterHarnesses() => Harness.Register("realtime", RunAsync);

    private static async Task RunAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "voxon-bench-realtime-" + Guid.NewGuid().ToString("N")[..8]);
        await using var server = LoopbackRealtimeServer.Start();
        try
        {
            await using var voxon = new VoxonClient(new VoxonOptions
            {
                Storage = new FileSessionStorage(folder),
                UseEnvironment = false,
                Realtime = new RealtimeOptions { Endpoint = server.Endpoint, ApiKey = "bench" },
            });
            var session = await voxon.CreateSessionAsync("bench", new SessionConfig { MemoryMode = MemoryMode.Persistent, MaxMemorySize = 1_000_000 });
            session.AddMemory("User's name is Alice", "identity", 0.9);
            for (var i = 0; i < 1_000; i++)
            {
                await session.AddMemoryAsync(CoreBenchmarks.Note(i), "note", 0.5);
            }

            await MiniLmEmbeddingGenerator.Shared.GenerateAsync(["warm up"]);
            await using var voice = await session.StartVoiceConversationAsync();
            var connection = await server.AcceptAsync();
            await connection.WaitForAsync("session.update");
            var updated = new SemaphoreSlim(0);
            connection.Received += e =>
            {
                if ((string?)e["type"] == "session.update")
                {
                    updated.Release();
                }
            };

            var samples = new double[Iterations];
            for (var i = -20; i < Iterations; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await connection.TranscribeAsync($"item_bench_{i + 20}", StreamingBenchmarks.Questions[(i + 20) % StreamingBenchmarks.Questions.Length]);
                if (!await updated.WaitAsync(TimeSpan.FromSeconds(10)))
                {
                    throw new TimeoutException("No session.update after a transcription.");
                }

                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (i >= 0)
                {
                    samples[i] = elapsed;
                }

                // The turn is recorded (and read for memories) after the update; let it finish so iterations do not queue.
                while (voice.Transcript.Count < i + 21)
                {
                    await Task.Delay(1);
                }
            }

            Harness.Print("transcription completed -> session.update with new context (1,000 memories)", samples);
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
