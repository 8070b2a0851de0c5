using System.Diagnostics;
using System.Globalization;
using Voxon.Memory.Search;
using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Storage.Worker;

namespace Voxon.Benchmarks;

/// <summary>
/// Harness "load-profile": where a file-backend load of 1,000 and 10,000 memories spends its time, phase by phase
/// (read, checksums, record decoding by kind, validation, assembly, session, and the search index built by the first
/// search, with the int8 codes of its vectors on one thread), with allocations; then whole loads in steady state next
/// to raw reads of the same files (wall and CPU time, GC pauses inside loads, allocations per load). With VOXON_BENCH_HOT_SECONDS (default 0), then loads in a loop for
/// that long at each size so a sampling profiler can attach (<c>perf record</c> with DOTNET_PerfMapEnabled=1 and
/// DOTNET_EnableWriteXorExecute=0, without which perf shows JIT-compiled frames as "memfd:doublemapper");
/// VOXON_BENCH_MEMORIES (e.g. "1000") profiles only those sizes.
/// Run: dotnet run -c Release --project bench/Voxon.Benchmarks -- harness load-profile
/// </summary>
public static class LoadProfile
{
    public static void RegisterHarnesses() => Harness.Register("load-profile", RunAsync);

    private static async Task RunAsync()
    {
        var sizes = Harness.MemorySizes();
        var seconds = double.TryParse(Environment.GetEnvironmentVariable("VOXON_BENCH_HOT_SECONDS"), CultureInfo.InvariantCulture, out var s) ? s : 0;
        foreach (var memories in sizes)
        {
            var folder = Directory.CreateTempSubdirectory("voxon-profile-").FullName;
            try
            {
                await using var storage = new FileSessionStorage(folder);
                await using var client = WorkerStorage.Client(storage);
                var (session, last) = await StorageBenchmarks.CreateSessionAsync(client, memories);

                // A journal as the storage harness leaves it: saves after one turn each.
                for (var i = 0; i < 50; i++)
                {
                    await last.SendMessageAsync($"turn {i}");
                    await session.SaveAsync();
                }

                await session.DisposeAsync();
                await ProfileAsync(client, storage, session.SessionId, memories, folder);
                await SteadyStateAsync(storage, session.SessionId, memories, folder);
                var (hot, hotCpu, hotPause) = (0, Environment.CpuUsage.TotalTime, GC.GetTotalPauseDuration());
                for (var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency); Stopwatch.GetTimestamp() < until; hot++)
                {
                    await storage.LoadAsync(session.SessionId);
                }

                if (hot > 0)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"hot loop: {hot} loads in {seconds} s, process CPU {(Environment.CpuUsage.TotalTime - hotCpu).TotalMilliseconds / hot:F3} ms and GC pauses {(GC.GetTotalPauseDuration() - hotPause).TotalMilliseconds / hot:F3} ms per load"));
                }
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static async Task ProfileAsync(VoxonClient client, FileSessionStorage storage, string id, int memories, string folder)
    {
        var path = Path.Combine(folder, id + ".json");
        var phases = new Dictionary<string, List<double>>();
        var cpu = new Dictionary<string, List<double>>();
        var allocated = new Dictionary<string, long>();
        void Add(string phase, double ms, double cpuMs, long bytes)
        {
            if (!phases.TryGetValue(phase, out var list))
            {
                phases[phase] = list = [];
                cpu[phase] = [];
            }

            list.Add(ms);
            cpu[phase].Add(cpuMs);
            allocated[phase] = bytes;
        }

        T Time<T>(string phase, Func<T> run)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var cpuBefore = Environment.CpuUsage.TotalTime;
            var start = Stopwatch.GetTimestamp();
            var result = run();
            Add(phase, Stopwatch.GetElapsedTime(start).TotalMilliseconds, (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds, GC.GetAllocatedBytesForCurrentThread() - before);
            return result;
        }

        var journalPath = Path.Combine(folder, id + ".journal");
        for (var i = -2; i < 15; i++)
        {
            var journal = Time("read journal bytes", () => File.Exists(journalPath) ? File.ReadAllBytes(journalPath) : []);
            var frames = Time("journal frames (read, checksums)", () => FileJournal.Read(journal).Frames);
            Time($"journal records ({frames.Count} frames)", () =>
            {
                var assembler = new SessionAssembler("file", id);
                foreach (var frame in frames)
                {
                    foreach (var section in (ReadOnlyMemory<byte>[])[frame.Conversations, frame.Head ?? default, frame.Content ?? default])
                    {
                        var reader = new RecordReader(section.Span);
                        while (reader.Next(out var kind, out var key, out var index, out var payload))
                        {
                            assembler.Apply(kind, key, index, payload);
                        }
                    }
                }

                return assembler.Version;
            });
            var bytes = Time("read file bytes", () => File.ReadAllBytes(path));
            var header = FileSnapshot.ReadHeader(bytes, bytes.Length);
            var meta = bytes.AsSpan(FileSnapshot.HeaderSize, (int)header.MetaLength).ToArray();
            var content = bytes.AsSpan(header.ContentOffset, (int)header.ContentLength).ToArray();
            Time("checksums (XxHash3, both sections)", () =>
            {
                FileSnapshot.Verify(meta, header.MetaHash, "meta");
                FileSnapshot.Verify(content, header.ContentHash, "content");
                return 0;
            });
            // As a full load decodes them, but on one thread: vectors left where they were read when the section is
            // large (the entries keep views of it), else copied (here into an array each).
            var keep = content.Length >= FileSessionStorage.KeptContentBytes;
            Time("  of which memory record decode (one thread)", () =>
            {
                var vectors = new StoredVectors(content);
                var reader = new RecordReader(content);
                var count = 0;
                while (reader.Next(out var kind, out _, out _, out var payload))
                {
                    if (kind == RecordKind.Memory)
                    {
                        var (start, floats) = MemoryRecordFormat.Embedding(payload);
                        var view = keep ? vectors.View(reader.Position - payload.Length + start, floats) : default;
                        count += MemoryRecordFormat.Decode(payload, into: view).TokenCount;
                    }
                }

                return count;
            });
            // What a load that built each entry when first read would still do up front: find the memory records and
            // key them by id (the record's key).
            Time("  memory records keyed by id only", () =>
            {
                var offsets = new Dictionary<string, int>(StringComparer.Ordinal);
                var reader = new RecordReader(content);
                while (reader.Next(out var kind, out var key, out _, out var payload))
                {
                    if (kind == RecordKind.Memory)
                    {
                        offsets[System.Text.Encoding.UTF8.GetString(key)] = reader.Position - payload.Length;
                    }
                }

                return offsets.Count;
            });
            foreach (var only in new[] { RecordKind.Head, RecordKind.Conversation, RecordKind.Turn })
            {
                Time($"    {only} records", () =>
                {
                    var assembler = new SessionAssembler("file", id);
                    var count = 0;
                    foreach (var section in new[] { meta, content })
                    {
                        var reader = new RecordReader(section);
                        while (reader.Next(out var kind, out var key, out var index, out var payload))
                        {
                            if (kind == only)
                            {
                                assembler.Apply(kind, key, index, payload);
                                count++;
                            }
                        }
                    }

                    return count;
                });
            }

            Time("  of which head, conversation and turn records", () =>
            {
                var assembler = new SessionAssembler("file", id);
                foreach (var section in new[] { meta, content })
                {
                    var reader = new RecordReader(section);
                    while (reader.Next(out var kind, out var key, out var index, out var payload))
                    {
                        if (kind != RecordKind.Memory)
                        {
                            assembler.Apply(kind, key, index, payload);
                        }
                    }
                }

                return assembler.Version;
            });
            var document = Time("decode + assembly (parallel memory decode, validate)", () =>
            {
                var assembler = new SessionAssembler("file", id);
                var reader = new RecordReader(meta);
                while (reader.Next(out var kind, out var key, out var index, out var payload))
                {
                    assembler.Apply(kind, key, index, payload);
                }

                var memories = new List<(int Offset, int Length)>();
                reader = new RecordReader(content);
                while (reader.Next(out var kind, out var key, out var index, out var payload))
                {
                    if (kind == RecordKind.Memory)
                    {
                        memories.Add((reader.Position - payload.Length, payload.Length));
                    }
                    else
                    {
                        assembler.Apply(kind, key, index, payload);
                    }
                }

                assembler.ApplyMemoryRecords(content, memories, keep);
                return assembler.Build()!;
            });
            Time("  of which validation", () => SessionDocumentSerializer.Problems(document, id, memoryKeyedById: true));
            var whole = await TimeAsync("storage.LoadAsync (whole)", () => storage.LoadAsync(id));
            var loaded = Time("session (search index deferred)", () => Session.FromDocument(client.Runtime, whole!));
            Time("first search (builds the search index)", () => loaded.SearchMemory("benchmark fact about topic 42"));
            var codes = new sbyte[whole!.Memory.Entries[0].Embedding.Length];
            Time("  of which int8 codes of the vectors (one thread)", () => whole.Memory.Entries.Sum(e => Int8Quantizer.Quantize(e.Embedding.Span, codes)));
            Time("  the same, a component at a time (reference)", () => whole.Memory.Entries.Sum(e => ScalarInt8Codes(e.Embedding.Span, codes)));
            if (i < 0)
            {
                phases.Clear();
                cpu.Clear();
            }
        }

        Console.WriteLine($"-- file, {memories / 1000}k memories/100 conversations, {new FileInfo(path).Length:N0} bytes");
        var sizes = new SortedDictionary<RecordKind, (int Count, long Bytes)>();
        var snapshot = File.ReadAllBytes(path);
        var sectioned = FileSnapshot.ReadHeader(snapshot, snapshot.Length);
        var all = new RecordReader(snapshot.AsSpan(FileSnapshot.HeaderSize, (int)(sectioned.MetaLength + sectioned.ContentLength)));
        while (all.Next(out var recordKind, out _, out _, out var recordPayload))
        {
            var (count, total) = sizes.GetValueOrDefault(recordKind);
            sizes[recordKind] = (count + 1, total + recordPayload.Length);
        }

        Console.WriteLine("   records: " + string.Join(", ", sizes.Select(s => $"{s.Key} {s.Value.Count:N0} ({s.Value.Bytes:N0} bytes)")));
        foreach (var (phase, samples) in phases)
        {
            var stats = Stats.From([.. samples]);
            var cpuStats = Stats.From([.. cpu[phase]]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{phase,-52} p50={stats.P50,9:F3} ms  p99={stats.P99,9:F3} ms  cpu p50={cpuStats.P50,9:F3} ms  allocated={allocated[phase] / 1024.0 / 1024.0,8:F1} MiB"));
        }

        async Task<T> TimeAsync<T>(string phase, Func<Task<T>> run)
        {
            var cpuBefore = Environment.CpuUsage.TotalTime;
            var start = Stopwatch.GetTimestamp();
            var result = await run();
            Add(phase, Stopwatch.GetElapsedTime(start).TotalMilliseconds, (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds, 0);
            return result;
        }
    }

    /// <summary>Whole loads next to raw reads of the same files, after warm-up: wall and process CPU time each, the
    /// garbage collection pauses that fell inside loads, and what a load allocates. CPU time and allocations vary
    /// little with other work on the machine, wall time a lot.</summary>
    private static async Task SteadyStateAsync(FileSessionStorage storage, string id, int memories, string folder)
    {
        var files = new[] { ".json", ".journal" }.Select(e => Path.Combine(folder, id + e)).Where(File.Exists).ToArray();
        for (var i = 0; i < 40; i++)
        {
            await storage.LoadAsync(id);
        }

        await Task.Delay(250); // the background compiler replaces what warm-up made hot
        var rounds = memories >= 10_000 ? 40 : 200;
        var (wall, cpu, pause, rawWall, rawCpu) = (new double[rounds], new double[rounds], new double[rounds], new double[rounds], new double[rounds]);
        var allocated = 0L;
        var collections = Enumerable.Range(0, 3).Select(GC.CollectionCount).ToArray();
        for (var i = 0; i < rounds; i++)
        {
            var (cpuBefore, pauseBefore, allocatedBefore, start) = (Environment.CpuUsage.TotalTime, GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes(), Stopwatch.GetTimestamp());
            await storage.LoadAsync(id);
            (wall[i], cpu[i]) = (Stopwatch.GetElapsedTime(start).TotalMilliseconds, (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds);
            (pause[i], allocated) = ((GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds, allocated + GC.GetTotalAllocatedBytes() - allocatedBefore);
            (cpuBefore, start) = (Environment.CpuUsage.TotalTime, Stopwatch.GetTimestamp());
            foreach (var file in files)
            {
                await File.ReadAllBytesAsync(file);
            }

            (rawWall[i], rawCpu[i]) = (Stopwatch.GetElapsedTime(start).TotalMilliseconds, (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds);
        }

        Console.WriteLine($"-- steady state, {rounds} loads each followed by a raw read of the same files");
        Harness.Print("storage.LoadAsync wall", wall);
        Harness.Print("raw read wall", rawWall);
        Harness.Print("storage.LoadAsync process CPU", cpu);
        Harness.Print("raw read process CPU", rawCpu);
        Harness.Print("GC pause inside a load", pause);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"allocated per load {allocated / rounds / 1024.0:F0} KiB; collections per round gen0 {(GC.CollectionCount(0) - collections[0]) / (double)rounds:F2}, gen1 {(GC.CollectionCount(1) - collections[1]) / (double)rounds:F2}, gen2 {(GC.CollectionCount(2) - collections[2]) / (double)rounds:F2}"));
    }

    /// <summary>Int8 codes as <see cref="Int8Quantizer.Quantize"/> computed them before it was vectorized, to compare.</summary>
    private static float ScalarInt8Codes(ReadOnlySpan<float> vector, Span<sbyte> codes)
    {
        var largest = Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(vector));
        var inverse = Int8Quantizer.MaxCode / largest;
        for (var i = 0; i < vector.Length; i++)
        {
            codes[i] = (sbyte)Math.Clamp((int)MathF.Round(vector[i] * inverse), -Int8Quantizer.MaxCode, Int8Quantizer.MaxCode);
        }

        return largest / Int8Quantizer.MaxCode;
    }
}
