using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Voxon.Storage;
using Voxon.Storage.Postgres;
using Voxon.Storage.Worker;

namespace Voxon.Benchmarks;

/// <summary>
/// Harness "row-load-profile": where a PostgreSQL load of 1,000 and 10,000 memories (plain and encrypted) spends its
/// time, phase by phase: the rows as the backend reads them next to the raw read of the same bytes, opening (decrypting)
/// the records, decoding memories serially and in parallel, the other records, assembly and validation; with the
/// allocations of each phase and the bytes and rows transferred.
/// Run: VOXON_TEST_POSTGRES=... dotnet run -c Release --project bench/Voxon.Benchmarks -- harness row-load-profile
/// </summary>
public static class RowLoadProfile
{
    public static void RegisterHarnesses() => Harness.Register("row-load-profile", RunAsync);

    private static async Task RunAsync()
    {
        if (Environment.GetEnvironmentVariable("VOXON_TEST_POSTGRES") is not { Length: > 0 } url)
        {
            Console.WriteLine("postgresql: skipped, VOXON_TEST_POSTGRES is not set (scripts/servers.sh start)");
            return;
        }

        foreach (var encrypted in new[] { false, true })
        {
            foreach (var memories in new[] { 1_000, 10_000 })
            {
                var space = "profile" + Guid.NewGuid().ToString("N")[..8];
                await using var storage = WorkerStorage.Open("postgresql", url, space, encrypted ? SessionEncryption.FromKey("benchmark session key") : null);
                await using var client = WorkerStorage.Client(storage);
                var (session, last) = await StorageBenchmarks.CreateSessionAsync(client, memories);
                for (var i = 0; i < 50; i++)
                {
                    await last.SendMessageAsync($"turn {i}");
                    await session.SaveAsync();
                }

                await ProfileAsync(storage, url, space, session.SessionId, $"postgresql{(encrypted ? " +aes" : string.Empty)} {memories / 1000}k mem/100 conv");
                await storage.DeleteAsync(session.SessionId);
            }
        }
    }

    private static async Task ProfileAsync(SessionStorage storage, string url, string space, string id, string label)
    {
        var codec = (SessionRecordCodec)typeof(PostgresSessionStorage).GetField("_codec", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(storage)!;
        await using var dataSource = NpgsqlDataSource.Create(PostgresStorage.ParseUrl(url).ConnectionString);
        var phases = new Dictionary<string, (List<double> Wall, List<double> Cpu, List<double> Pause, long Allocated)>();
        var (rows, bytes) = (0, 0L);

        async Task<T> TimeAsync<T>(string phase, Func<Task<T>> run)
        {
            var allocated = GC.GetTotalAllocatedBytes(precise: false);
            var cpu = Environment.CpuUsage.TotalTime;
            var pause = GC.GetTotalPauseDuration();
            var start = Stopwatch.GetTimestamp();
            var result = await run();
            var wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (!phases.TryGetValue(phase, out var entry))
            {
                phases[phase] = entry = ([], [], [], 0);
            }

            entry.Wall.Add(wall);
            entry.Cpu.Add((Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds);
            entry.Pause.Add((GC.GetTotalPauseDuration() - pause).TotalMilliseconds);
            phases[phase] = entry with { Allocated = GC.GetTotalAllocatedBytes(precise: false) - allocated };
            return result;
        }

        T Time<T>(string phase, Func<T> run) => TimeAsync(phase, () => Task.FromResult(run())).GetAwaiter().GetResult();

        for (var i = -10; i < 20; i++)
        {
            (rows, bytes) = await TimeAsync("raw read (one UNION ALL query, byte[] per row)", async () =>
            {
                await using var connection = await dataSource.OpenConnectionAsync();
                await using var command = new NpgsqlCommand(
                    $"SELECT head FROM {space}.voxon_sessions WHERE session_id = $1 UNION ALL SELECT data FROM {space}.voxon_memories WHERE session_id = $1 "
                    + $"UNION ALL SELECT header FROM {space}.voxon_conversations WHERE session_id = $1 UNION ALL SELECT data FROM {space}.voxon_turns WHERE session_id = $1",
                    connection) { Parameters = { new() { Value = id } } };
                var (count, total) = (0, 0L);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    total += reader.GetFieldValue<byte[]>(0).Length;
                    count++;
                }

                return (count, total);
            });
            var of = $"user_id = (SELECT user_id FROM {space}.voxon_sessions WHERE session_id = $1) AND session_id = $1";
            var sql = $"SELECT {(int)RecordKind.Head}, '', 0, head FROM {space}.voxon_sessions WHERE session_id = $1 "
                + $"UNION ALL SELECT {(int)RecordKind.Conversation}, conversation_id, ordinal, header FROM {space}.voxon_conversations WHERE {of} "
                + $"UNION ALL SELECT {(int)RecordKind.Memory}, memory_id, 0, data FROM {space}.voxon_memories WHERE {of} "
                + $"UNION ALL SELECT {(int)RecordKind.Turn}, conversation_id, turn_index, data FROM {space}.voxon_turns WHERE {of}";
            await TimeAsync("rows copied into one buffer (the load's read loop, no decode)", async () =>
            {
                await using var connection = await dataSource.OpenConnectionAsync();
                await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = id } } };
                var buffer = new byte[64 * 1024];
                var total = 0L;
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    total += reader.GetInt32(0) + reader.GetString(1).Length + reader.GetInt32(2) + reader.GetBytes(3, 0, buffer, 0, (int)reader.GetBytes(3, 0, null, 0, 0));
                }

                return total;
            });
            // The load's own read loop, with memory records decoded on the read thread as they arrive, then in batches on
            // the thread pool while the read goes on (as storage.LoadAsync does), interleaved.
            foreach (var pipelined in i % 2 == 0 ? new[] { false, true } : [true, false])
            {
                await TimeAsync(pipelined ? "load, memory batches decoded on the pool during the read" : "load, each record decoded on the read thread", async () =>
                {
                    await using var connection = await dataSource.OpenConnectionAsync();
                    await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = id } } };
                    await using var load = new RecordLoad(codec, id, withContent: true);
                    await using (var reader = await command.ExecuteReaderAsync())
                    {
                        while (await reader.ReadAsync())
                        {
                            var kind = (RecordKind)reader.GetInt32(0);
                            var stored = load.Reserve(pipelined ? kind : RecordKind.Head, (int)reader.GetBytes(3, 0, null, 0, 0));
                            reader.GetBytes(3, 0, stored.Array, stored.Offset, stored.Count);
                            if (load.KeyToFetch(stored) is { } keyId)
                            {
                                await load.FetchKeyAsync(keyId, default);
                            }

                            if (pipelined)
                            {
                                load.Add(kind, reader.GetString(1), reader.GetInt32(2), stored);
                            }
                            else
                            {
                                load.Add(kind, reader.GetString(1), reader.GetInt32(2), stored.AsSpan());
                            }
                        }
                    }

                    return await load.BuildAsync();
                });
            }

            var records = await TimeAsync("rows as records (byte[] per row, for the phases below)", async () =>
            {
                await using var connection = await dataSource.OpenConnectionAsync();
                await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = id } } };
                var list = new List<SessionRecord>();
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    list.Add(new SessionRecord((RecordKind)reader.GetInt32(0), reader.GetString(1), reader.GetInt32(2), reader.GetFieldValue<byte[]>(3)));
                }

                return list;
            });
            await TimeAsync("prepare keys (key ring)", async () =>
            {
                await codec.PrepareAsync(records.Select(r => r.Payload), id);
                return 0;
            });
            Time("open records as a load does (reused ciphers, pooled buffer)", () =>
            {
                var old = false;
                using var opener = new RecordOpener(codec, id);
                return records.Sum(r => opener.Open(r.Kind, r.Key, r.Index, r.Payload, ref old, p => p.Length));
            });
            if (codec.KeyRing is { } ring && SessionEncryption.KeyIdOf(records[^1].Payload) is { } keyId && ring.FetchedDataKey(keyId) is { } ciphers)
            {
                Time("  the floor: AES-GCM decryption alone, one cipher", () =>
                {
                    var buffer = new byte[64 * 1024];
                    var context = new byte[512];
                    var aes = ciphers.Rent();
                    foreach (var r in records)
                    {
                        var length = SessionEncryption.PlaintextLength(r.Payload, keyId.Length);
                        SessionRecord.TryWriteContext(context, id, r.Kind, r.Key, r.Index, out var written);
                        SessionEncryption.Open(r.Payload, keyId, aes, context.AsSpan(0, written), buffer.AsSpan(0, length));
                    }

                    ciphers.Return(aes);
                    return 0;
                });
            }

            var opened = Time("open records into arrays (for the phases below)", () =>
            {
                var old = false;
                return records.Select(r => r with { Payload = codec.Open(r, id, ref old) }).ToList();
            });
            var memories = opened.Where(r => r.Kind == RecordKind.Memory).ToList();
            void DecodeAll(SessionAssembler assembler) => assembler.ApplyMemories(memories.Count, SessionAssembler.SharedDecodeThreshold, (start, entries, _) =>
            {
                for (var m = 0; m < entries.Length; m++)
                {
                    entries[m] = assembler.DecodeMemory(memories[start + m].Payload, memories.Count);
                }
            });

            Time("memory decode, one thread, entries kept", () => memories.Select(r => MemoryRecordFormat.Decode(r.Payload)).ToList());
            Time("  the same, vectors pinned", () => memories.Select(r => MemoryRecordFormat.Decode(r.Payload, pinned: true)).ToList());
            Time("memory decode, parallel (as a load does)", () =>
            {
                DecodeAll(new SessionAssembler("postgresql", id));
                return 0;
            });
            Time("head, conversation and turn records", () =>
            {
                var assembler = new SessionAssembler("postgresql", id);
                foreach (var record in opened.Where(r => r.Kind != RecordKind.Memory))
                {
                    assembler.Apply(record);
                }

                return assembler.Version;
            });
            var document = Time("assemble all + build + validate", () =>
            {
                var assembler = new SessionAssembler("postgresql", id);
                foreach (var record in opened.Where(r => r.Kind != RecordKind.Memory))
                {
                    assembler.Apply(record);
                }

                DecodeAll(assembler);
                return assembler.Build()!;
            });
            Time("  of which validation", () => SessionDocumentSerializer.Problems(document, id).Count);
            await TimeAsync("storage.LoadAsync (whole)", () => storage.LoadAsync(id));
            if (i < 0)
            {
                phases.Clear();
            }
        }

        Console.WriteLine($"-- {label}: {rows:N0} rows, {bytes:N0} bytes of record data");
        foreach (var (phase, (wall, cpu, pause, allocated)) in phases)
        {
            var stats = Stats.From([.. wall]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{phase,-56} p50={stats.P50,9:F3} ms  p99={stats.P99,9:F3} ms  cpu p50={Stats.From([.. cpu]).P50,9:F3} ms  GC pause mean={pause.Average(),8:F3} ms  allocated={allocated / 1024.0 / 1024.0,7:F1} MiB"));
        }
    }
}
