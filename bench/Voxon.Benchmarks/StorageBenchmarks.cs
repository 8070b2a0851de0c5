using System.Diagnostics;
using System.Globalization;
using Npgsql;
using StackExchange.Redis;
using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Storage.Postgres;
using Voxon.Storage.Redis;
using Voxon.Storage.Worker;

namespace Voxon.Benchmarks;

/// <summary>
/// Harness "storage": on each backend (file; PostgreSQL at VOXON_TEST_POSTGRES; Redis at VOXON_TEST_REDIS), plain and
/// encrypted, for sessions of 1,000 and 10,000 memories with 100 conversations: (a) the save after one new turn,
/// (b) a full load next to the raw driver reading the same bytes (files also into a reused buffer), interleaved in one
/// run, with the ratios; (c) on files, the bytes a lazy load reads before memory is used; (e) the first turn of a call
/// started on a lazy load. VOXON_BENCH_BACKENDS, VOXON_BENCH_MEMORIES and VOXON_BENCH_ENCRYPTED select a part of it.
/// Run: dotnet run -c Release --project bench/Voxon.Benchmarks -- harness storage
/// </summary>
public static class StorageBenchmarks
{
    private const string Key = "benchmark session key";

    public static void RegisterHarnesses() => Harness.Register("storage", RunAsync);

    private static async Task RunAsync()
    {
        var saves = int.TryParse(Environment.GetEnvironmentVariable("VOXON_BENCH_SAVES"), CultureInfo.InvariantCulture, out var n) ? n : 200;
        var folder = Directory.CreateTempSubdirectory("voxon-bench-").FullName;
        // VOXON_BENCH_BACKENDS (e.g. "postgresql,redis") runs only those backends.
        var only = Environment.GetEnvironmentVariable("VOXON_BENCH_BACKENDS") is { Length: > 0 } list ? list.Split(',', StringSplitOptions.TrimEntries) : null;
        // VOXON_BENCH_ENCRYPTED ("0" or "1") runs only plain or encrypted sessions.
        var sizes = Harness.MemorySizes();
        bool[] encryption = Environment.GetEnvironmentVariable("VOXON_BENCH_ENCRYPTED") switch { "0" => [false], "1" => [true], _ => [false, true] };
        var targets = new List<(string Backend, string Target)> { ("file", folder) };
        foreach (var (backend, variable) in new[] { ("postgresql", "VOXON_TEST_POSTGRES"), ("redis", "VOXON_TEST_REDIS") })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } url)
            {
                targets.Add((backend, url));
            }
            else
            {
                Console.WriteLine($"{backend}: skipped, {variable} is not set (scripts/servers.sh start)");
            }
        }

        try
        {
            foreach (var (backend, target) in targets.Where(t => only is null || only.Contains(t.Backend)))
            {
                foreach (var encrypted in encryption)
                {
                    foreach (var memories in sizes)
                    {
                        await RunOneAsync(backend, target, encrypted, memories, saves);
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task RunOneAsync(string backend, string target, bool encrypted, int memories, int saves)
    {
        var space = "bench" + Guid.NewGuid().ToString("N")[..8];
        await using var storage = WorkerStorage.Open(backend, target, space, encrypted ? SessionEncryption.FromKey(Key) : null);
        await using var client = WorkerStorage.Client(storage);
        var (session, last) = await CreateSessionAsync(client, memories);
        var label = $"{backend}{(encrypted ? " +aes" : string.Empty)} {memories / 1000}k mem/100 conv";

        // (a) save after one new turn: only the save is timed.
        var samples = new double[saves];
        for (var i = -5; i < saves; i++)
        {
            await last.SendMessageAsync($"turn {i}");
            var start = Stopwatch.GetTimestamp();
            await session.SaveAsync();
            if (i >= 0)
            {
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }

        Print($"save after 1 turn   {label}", Stats.From(samples), saves);

        // (b) full load, next to the raw driver reading the same bytes: interleaved, rotating which goes first. Files are
        // read twice over: into a new array (File.ReadAllBytesAsync), whose first touch of each page costs a fault, and as
        // a load reads them, into a buffer reused from read to read.
        var loads = memories >= 10_000 ? 40 : 100;
        var raws = RawReaders(backend, target, space, session.SessionId);
        var timings = new double[1 + raws.Count][];
        var operations = new List<Func<Task>> { () => storage.LoadAsync(session.SessionId) };
        operations.AddRange(raws.Select(r => (Func<Task>)r.Read));
        // Unmeasured rounds (at least forty, for at least three seconds), then a pause: code that runs once a load is
        // tier-0 for its first 30 calls and is replaced by optimized code on a background thread, which after the session
        // was built has a backlog of the methods building it used (the record decoders are optimized from their first
        // call); the raw read is framework code compiled ahead of time. Both sides are then measured in steady state.
        var warmup = 0;
        for (var started = Stopwatch.GetTimestamp(); warmup < 40 || Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(3); warmup++)
        {
            foreach (var operation in operations)
            {
                await operation();
            }
        }

        await Task.Delay(250);
        Console.WriteLine($"  {label}: {warmup} unmeasured rounds, then {loads} measured, load and raw reads rotating which goes first");
        for (var k = 0; k < timings.Length; k++)
        {
            timings[k] = new double[loads];
        }

        for (var i = 0; i < loads; i++)
        {
            for (var j = 0; j < operations.Count; j++)
            {
                var k = (i + j) % operations.Count;
                timings[k][i] = await TimeAsync(operations[k]);
            }
        }

        // Like with like: the raw side reads the files (or rows, or hash fields) the load reads, and nothing else.
        var rawBytes = await raws[0].Read();
        if (storage is FileSessionStorage counted)
        {
            var before = counted.SessionBytesRead;
            await storage.LoadAsync(session.SessionId);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  bytes read: full load {counted.SessionBytesRead - before:N0} (snapshot and journal; it also reads the lock file's few hundred bytes of state), raw read {rawBytes:N0} (snapshot and journal)"));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  bytes read: raw read {rawBytes:N0} (every record of the session the load reads)"));
        }

        var fullStats = Harness.Print($"full load           {label}", timings[0]);
        for (var r = 0; r < raws.Count; r++)
        {
            var readStats = Harness.Print($"{raws[r].Label,-20}{label}", timings[r + 1]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{"  ratio full load / " + raws[r].Label.TrimEnd(),-60} p50={fullStats.P50 / readStats.P50,6:F2}x  p99={fullStats.P99 / readStats.P99,6:F2}x  (target <= 2x)"));
        }

        // (c) file: what a lazy load reads before memory is touched, against the session's files.
        if (storage is FileSessionStorage files)
        {
            var size = new[] { ".json", ".journal" }.Select(e => Path.Combine(files.Folder, session.SessionId + e)).Where(File.Exists).Sum(f => new FileInfo(f).Length);
            var before = files.SessionBytesRead;
            var lazy = await client.LoadSessionAsync(session.SessionId, lazyLoad: true);
            var metadata = files.SessionBytesRead - before;
            _ = lazy.GetMemory();
            await lazy.DisposeAsync(); // ends the open conversation and saves: (d) goes on from what it stored
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{"  lazy load reads before memory is used " + label,-60} {metadata,12:N0} of {size:N0} bytes = {100.0 * metadata / size:F2}% (target <= 10%); first memory use reads {files.SessionBytesRead - before - metadata:N0}"));
            await LazyLoadBeforeCompactionAsync(files, client, session.SessionId, label);
        }

        await FirstTurnOfACallAsync(client, session.SessionId, label);
        await storage.DeleteAsync(session.SessionId);
    }

    /// <summary>(e) A call on a lazy load: the session loaded lazily and a conversation started (then the call can start
    /// talking), timed; a pause as for the greeting; then the user's first turn, timed.</summary>
    private static async Task FirstTurnOfACallAsync(VoxonClient client, string sessionId, string label)
    {
        var (starts, turns) = (new double[20], new double[20]);
        for (var i = -3; i < turns.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await using var call = await client.LoadSessionAsync(sessionId, lazyLoad: true);
            var conversation = await call.StartConversationAsync();
            var start = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            await Task.Delay(300);
            var turn = await TimeAsync(() => conversation.SendMessageAsync("What do you know about topic 5?"));
            if (i >= 0)
            {
                (starts[i], turns[i]) = (start, turn);
            }
        }

        Harness.Print($"lazy load + conversation start {label}", starts);
        Harness.Print($"first turn, 300 ms later        {label}", turns);
    }

    /// <summary>(d) file: the same with the journal at its longest, saves of one turn (and a memory every fourth save)
    /// appended until the next would compact it into a snapshot; with the time of that metadata load.</summary>
    private static async Task LazyLoadBeforeCompactionAsync(FileSessionStorage files, VoxonClient client, string sessionId, string label)
    {
        var snapshot = Path.Combine(files.Folder, sessionId + ".json");
        var journal = Path.Combine(files.Folder, sessionId + ".journal");
        await using var session = await client.LoadSessionAsync(sessionId);
        var last = await session.StartConversationAsync();
        var saves = 0;
        long Length(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;
        while (Length(journal) < 0.97 * files.JournalLimit(Length(snapshot)))
        {
            await last.SendMessageAsync($"a turn saved before compaction {saves}");
            if (saves % 4 == 0)
            {
                await session.AddMemoryAsync($"a fact saved before compaction {saves}");
            }

            await session.SaveAsync();
            saves++;
        }

        var size = Length(snapshot) + Length(journal);
        var before = files.SessionBytesRead;
        await files.LoadMetadataAsync(sessionId); // what a lazy load reads (a lazy session here would end the open conversation)
        var metadata = files.SessionBytesRead - before;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{"  the same after " + saves + " saves, journal " + Length(journal).ToString("N0", CultureInfo.InvariantCulture) + " bytes",-60} {metadata,12:N0} of {size:N0} bytes = {100.0 * metadata / size:F2}% (target <= 10%)"));

        var times = new double[40];
        for (var i = -10; i < times.Length; i++)
        {
            var time = await TimeAsync(() => files.LoadMetadataAsync(sessionId));
            if (i >= 0)
            {
                times[i] = time;
            }
        }

        Harness.Print($"lazy load (metadata) {label}, journal before compaction", times);
    }

    private static async Task<double> TimeAsync(Func<Task> operation)
    {
        var start = Stopwatch.GetTimestamp();
        await operation();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>A saved session of <paramref name="memories"/> memories and 100 conversations (the last one open).</summary>
    internal static async Task<(Session Session, Conversations.Conversation Last)> CreateSessionAsync(VoxonClient client, int memories)
    {
        var session = await client.CreateSessionAsync("bench_user", new SessionConfig { MaxMemorySize = 10_000_000 });
        for (var i = 0; i < memories; i++)
        {
            await session.AddMemoryAsync($"benchmark fact number {i} about topic {i % 97} and detail {i % 13}");
        }

        Conversations.Conversation? last = null;
        for (var c = 0; c < 100; c++)
        {
            last = await session.StartConversationAsync();
            await last.SendMessageAsync($"conversation {c} opening message");
            if (c < 99)
            {
                await last.EndAsync();
            }
        }

        await session.SaveAsync();
        return (session, last!);
    }

    /// <summary>The raw driver reads of a session's stored bytes, each labelled; for files, into new arrays and into a
    /// reused buffer.</summary>
    private static List<(string Label, Func<Task<long>> Read)> RawReaders(string backend, string target, string space, string sessionId)
    {
        if (backend != "file")
        {
            return [("raw driver read", RawReader(backend, target, space, sessionId))];
        }

        var paths = new[] { sessionId + ".json", sessionId + ".journal" }.Select(f => Path.Combine(target, f)).ToArray();
        var buffer = Array.Empty<byte>();
        return
        [
            ("raw driver read", RawReader(backend, target, space, sessionId)),
            ("raw read (reused)", () =>
            {
                // As a load reads: synchronously, with no stream buffer.
                long total = 0;
                foreach (var path in paths.Where(File.Exists))
                {
                    using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
                    var length = (int)stream.Length;
                    if (buffer.Length < length)
                    {
                        buffer = new byte[length];
                    }

                    stream.ReadExactly(buffer, 0, length);
                    total += length;
                }

                return Task.FromResult(total);
            }),
        ];
    }

    private static Func<Task<long>> RawReader(string backend, string target, string space, string sessionId) => backend switch
    {
        "file" => async () =>
        {
            var snapshot = await File.ReadAllBytesAsync(Path.Combine(target, sessionId + ".json"));
            var journal = Path.Combine(target, sessionId + ".journal");
            return snapshot.Length + (File.Exists(journal) ? (await File.ReadAllBytesAsync(journal)).Length : 0);
        },
        "postgresql" => async () =>
        {
            await using var connection = new NpgsqlConnection(PostgresStorage.ParseUrl(target).ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                $"SELECT head FROM {space}.voxon_sessions WHERE session_id = $1 UNION ALL SELECT data FROM {space}.voxon_memories WHERE session_id = $1 "
                + $"UNION ALL SELECT header FROM {space}.voxon_conversations WHERE session_id = $1 UNION ALL SELECT data FROM {space}.voxon_turns WHERE session_id = $1",
                connection) { Parameters = { new() { Value = sessionId } } };
            long total = 0;
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                total += reader.GetFieldValue<byte[]>(0).Length;
            }

            return total;
        },
        _ => RedisRawReader(target, space, sessionId),
    };

    private static Func<Task<long>> RedisRawReader(string target, string space, string sessionId)
    {
        var connection = ConnectionMultiplexer.Connect(RedisStorage.Parse(target));
        var db = connection.GetDatabase();
        var keys = new RedisKeys(space);
        var head = (string)keys.Head((string)db.StringGet(keys.SessionUser(sessionId))!, sessionId)!;
        return async () =>
        {
            var parts = await Task.WhenAll(db.HashGetAllAsync(head), db.HashGetAllAsync(head + ":m"), db.HashGetAllAsync(head + ":c"), db.HashGetAllAsync(head + ":t"));
            return parts.Sum(p => p.Sum(e => ((byte[])e.Value!).Length));
        };
    }

    private static void Print(string label, Stats stats, int iterations) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label,-60} n={iterations,5}  p50={stats.P50,9:F3} ms  p90={stats.P90,9:F3} ms  p99={stats.P99,9:F3} ms  max={stats.Max,9:F3} ms"));
}
