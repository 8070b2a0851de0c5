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
/// session, both timed at the server. It includes both socket hops and the weave from the words; the embedding of the
/// words (arctic-embed-xs, the default model) comes after it, for the second update, timed too. Turns alternate between
/// a transcription sent whole (the <c>completed</c> event only) and one streamed first as the service does
/// (<c>conversation.item.input_audio_transcription.delta</c> events, word by word, then <c>completed</c> 5 ms after the
/// last), both timed from <c>completed</c>, so the two are measured in the same run. Run:
/// <c>dotnet run -c Release --project bench/Voxon.Benchmarks -- harness realtime</c>.
/// </summary>
public static class RealtimeBenchmarks
{
    private const int Iterations = 300;

    // Unmeasured turns first, enough for the JIT to finish tiering up the turn's code (the engine's and the loopback
    // server's): a voice server runs for hours, and with 20 the measured turns still ran partly tier-0 code.
    private static readonly int Warmup = int.TryParse(Environment.GetEnvironmentVariable("VOXON_BENCH_WARMUP"), out var w) ? w : 300;

    public static void RegisterHarnesses() => Harness.Register("realtime", RunAsync);

    private static int CountOf<T>(List<T> list)
    {
        lock (list)
        {
            return list.Count;
        }
    }

    private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);

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

            // The engine's own share, from its meters: transcription taken off its queue to the first update written
            // (woven from the words alone), and to the second one (woven with their embedding too, sent when it differs).
            var inside = new List<double>();
            var refinedInside = new List<double>();
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name is "voxon.realtime.context_update" or "voxon.realtime.context_refined")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
            {
                var into = instrument.Name == "voxon.realtime.context_update" ? inside : refinedInside;
                lock (into)
                {
                    into.Add(value);
                }
            });
            listener.Start();

            // Timed at the server: from just before it sends the transcription to its receive loop reading each
            // session.update (the first is the one carrying the context for the words).
            var arrivals = new List<long>();
            // What the process had allocated and paused for GC when each update arrived: what happened inside the timed window.
            var atArrival = new List<(long Allocated, int Collections, TimeSpan Paused)>();
            connection.Received += e =>
            {
                if ((string?)e["type"] == "session.update")
                {
                    var at = Stopwatch.GetTimestamp();
                    var state = (GC.GetTotalAllocatedBytes(precise: true), GC.CollectionCount(0), GC.GetTotalPauseDuration());
                    lock (arrivals)
                    {
                        arrivals.Add(at);
                        atArrival.Add(state);
                    }
                }
            };

            var samples = new double[Iterations];
            var streamed = new bool[Iterations];
            var collected = new bool[Iterations];
            var paused = new double[Iterations];
            var allocatedUntilUpdate = new double[Iterations];
            var allocatedPerTurn = new double[Iterations];
            var pausedInside = new double[Iterations];
            var collectedInside = new bool[Iterations];
            int gen1 = 0, gen2 = 0;
            var refined = new List<double>();
            for (var i = -Warmup; i < Iterations; i++)
            {
                int seen;
                lock (arrivals)
                {
                    seen = arrivals.Count;
                }

                var item = $"item_bench_{i + Warmup}";
                var words = StreamingBenchmarks.Questions[(i + Warmup) % StreamingBenchmarks.Questions.Length];
                var stream = i % 2 == 0;
                if (stream)
                {
                    foreach (var word in System.Text.RegularExpressions.Regex.Matches(words, @"\S+\s*").Select(m => m.Value))
                    {
                        await connection.TranscriptionDeltaAsync(item, word);
                    }

                    await Task.Delay(5);
                }

                var collections = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
                var pauses = GC.GetTotalPauseDuration();
                var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                var started = Stopwatch.GetTimestamp();
                await connection.TranscribeAsync(item, words);

                // The turn is recorded after its updates; let it finish, and every update it sent arrive, so that
                // iterations neither queue nor take one turn's update for the next one's.
                while (voice.Transcript.Count < i + Warmup + 1)
                {
                    await Task.Delay(1);
                }

                var expected = CountOf(inside) + CountOf(refinedInside);   // the opening configuration arrived before the count began
                var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 10;
                while (CountOf(arrivals) < expected && Stopwatch.GetTimestamp() < deadline)
                {
                    await Task.Delay(1);
                }

                long[] mine;
                (long Allocated, int Collections, TimeSpan Paused) first = default;
                lock (arrivals)
                {
                    mine = [.. arrivals.Skip(seen)];
                    if (mine.Length > 0)
                    {
                        first = atArrival[seen];
                    }
                }

                if (i >= 0 && mine.Length > 0)
                {
                    samples[i] = Stopwatch.GetElapsedTime(started, mine[0]).TotalMilliseconds;
                    streamed[i] = stream;
                    // Whether a collection ran during the turn (it may have come after the update; the pause says how long).
                    collected[i] = GC.CollectionCount(0) > collections.Item1;
                    gen2 += GC.CollectionCount(2) - collections.Item3;
                    gen1 += GC.CollectionCount(1) - collections.Item2;
                    paused[i] = (GC.GetTotalPauseDuration() - pauses).TotalMilliseconds;
                    // In KB, process-wide (the server's share included): up to the first update, and for the whole turn.
                    allocatedUntilUpdate[i] = (first.Allocated - allocatedBefore) / 1024.0;
                    collectedInside[i] = first.Collections > collections.Item1;
                    pausedInside[i] = (first.Paused - pauses).TotalMilliseconds;
                    allocatedPerTurn[i] = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / 1024.0;
                    if (mine.Length > 1)
                    {
                        refined.Add(Stopwatch.GetElapsedTime(started, mine[1]).TotalMilliseconds);
                    }
                }
            }

            Harness.Print("transcription completed -> session.update with new context (1,000 memories)", samples);
            Harness.Print("  transcription sent whole (completed only)", [.. samples.Where((_, k) => !streamed[k])]);
            Harness.Print("  transcription streamed first (deltas, then completed)", [.. samples.Where((_, k) => streamed[k])]);
            Harness.Print("  of which inside the engine (weave from the words + send)", [.. inside.Skip(Warmup)]);
            // What the tail is made of: turns during which the GC ran, against the others.
            Harness.Print($"  turns with a GC during them ({collected.Count(c => c)}; of the collections {gen1} gen1, {gen2} gen2)", [.. samples.Where((_, k) => collected[k])]);
            Harness.Print($"  turns without ({collected.Count(c => !c)})", [.. samples.Where((_, k) => !collected[k])]);
            Harness.Print("  GC pause during a turn with a GC", [.. paused.Where((_, k) => collected[k]).DefaultIfEmpty()]);
            Harness.Print($"  turns with a GC inside the timed window ({collectedInside.Count(c => c)})", [.. samples.Where((_, k) => collectedInside[k]).DefaultIfEmpty()]);
            Harness.Print("  GC pause inside the timed window, when one ran", [.. pausedInside.Where((_, k) => collectedInside[k]).DefaultIfEmpty()]);
            Console.WriteLine($"  allocated (KB, process-wide, server included): to the first update p50={Median(allocatedUntilUpdate):F0}, whole turn p50={Median(allocatedPerTurn):F0}");
            Harness.Print($"  -> second session.update, woven with the embedding ({refined.Count} turns where it differed)", [.. refined]);
            var embedding = new double[Iterations];
            for (var i = 0; i < Iterations; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await ArcticXsEmbeddingGenerator.Shared.GenerateAsync([StreamingBenchmarks.Questions[i % StreamingBenchmarks.Questions.Length]], LocalEmbeddingGenerator.QueryOptions);
                embedding[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            Harness.Print("  for scale: embedding the same words alone (arctic-embed-xs, the default model, as a query)", embedding);
            var prepare = new double[Iterations];
            for (var i = 0; i < Iterations; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await session.Turns.PrepareAsync(voice.Conversation.State, StreamingBenchmarks.Questions[i % StreamingBenchmarks.Questions.Length], null, excludeSensitive: true, CancellationToken.None);
                prepare[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            Harness.Print("  for scale: the pipeline's prepare alone (embed + weave + history)", prepare);
            Console.WriteLine($"  session.update events: {connection.EventsOf("session.update").Count} (1 opening + {Iterations + Warmup} re-weaves + {CountOf(refinedInside)} second updates expected)");
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
