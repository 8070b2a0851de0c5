using System.Diagnostics;
using System.Diagnostics.Metrics;
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
/// session. It includes both socket hops, the embedding of the words (arctic-embed-xs, the default model) and the weave. Run:
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

            await ArcticXsEmbeddingGenerator.Shared.GenerateAsync(["warm up"]);
            await using var voice = await session.StartVoiceConversationAsync();
            var connection = await server.AcceptAsync();
            await connection.WaitForAsync("session.update");
            // Each iteration waits for the session.update after the ones already received (counted, so the opening
            // update's late notification cannot be taken for the next one's).
            var target = int.MaxValue;
            var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            connection.Received += e =>
            {
                if ((string?)e["type"] == "session.update" && connection.EventsOf("session.update").Count >= Volatile.Read(ref target))
                {
                    Volatile.Read(ref arrived).TrySetResult();
                }
            };

            // The engine's own share: from taking the transcription off its queue to the update written to the socket.
            var inside = new List<double>();
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "voxon.realtime.context_update")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
            {
                lock (inside)
                {
                    inside.Add(value);
                }
            });
            listener.Start();

            var samples = new double[Iterations];
            for (var i = -20; i < Iterations; i++)
            {
                Volatile.Write(ref arrived, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                Volatile.Write(ref target, connection.EventsOf("session.update").Count + 1);
                var started = Stopwatch.GetTimestamp();
                await connection.TranscribeAsync($"item_bench_{i + 20}", StreamingBenchmarks.Questions[(i + 20) % StreamingBenchmarks.Questions.Length]);
                await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));

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
            Harness.Print("  of which inside the engine (weave for the words + send)", [.. inside.Skip(20)]);
            var embedding = new double[Iterations];
            for (var i = 0; i < Iterations; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await ArcticXsEmbeddingGenerator.Shared.GenerateAsync([StreamingBenchmarks.Questions[i % StreamingBenchmarks.Questions.Length]]);
                embedding[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            Harness.Print("  for scale: embedding the same words alone (arctic-embed-xs, the default model)", embedding);
            var prepare = new double[Iterations];
            for (var i = 0; i < Iterations; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await session.Turns.PrepareAsync(voice.Conversation.State, StreamingBenchmarks.Questions[i % StreamingBenchmarks.Questions.Length], null, excludeSensitive: true, CancellationToken.None);
                prepare[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            Harness.Print("  for scale: the pipeline's prepare alone (embed + weave + history)", prepare);
            Console.WriteLine($"  session.update events: {connection.EventsOf("session.update").Count} (1 opening + {Iterations + 20} re-weaves expected)");
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
