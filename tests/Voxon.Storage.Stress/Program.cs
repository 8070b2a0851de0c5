using Voxon;
using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Storage.Stress;

// A child process for crash and multi-process tests. It prints one line per acknowledged save, flushed at once,
// so the parent knows exactly what storage acknowledged before it was killed.
//   stream <backend> <target> <sessionId> <count>           add a memory and save, count times
//   hammer <backend> <target> <sessionId> <count> <worker>  load, add a memory, save; retry on a stale version
if (args.Length < 5)
{
    Console.Error.WriteLine("usage: stream|hammer <backend> <target> <sessionId> <count> [worker]");
    return 2;
}

var (mode, sessionId, count) = (args[0], args[3], int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture));
await using var voxon = new VoxonClient(new VoxonOptions { Storage = Backends.Create(args[1], args[2]), UseEnvironment = false });
Console.Out.Flush();

if (mode == "stream")
{
    var session = await LoadOrCreateAsync(voxon, sessionId);
    for (var i = 0; i < count; i++)
    {
        await session.AddMemoryAsync($"stream fact {i}", "note", 0.6);
        await session.SaveAsync();
        Console.WriteLine($"ack {session.Version} {i}");
        Console.Out.Flush();
    }

    return 0;
}

var worker = args[5];
for (var i = 0; i < count; i++)
{
    for (var attempt = 0; ; attempt++)
    {
        var session = await LoadOrCreateAsync(voxon, sessionId);
        await session.AddMemoryAsync($"worker {worker} fact {i}", "note", 0.6);
        try
        {
            await session.SaveAsync();
            Console.WriteLine($"ack worker {worker} fact {i}");
            Console.Out.Flush();
            break;
        }
        catch (VoxonStorageException ex) when (attempt < 200 && ex.GetType().Name.Contains("Concurrency", StringComparison.Ordinal))
        {
            // Another process saved first: reload and apply the change again.
        }
    }
}

return 0;

static async Task<Session> LoadOrCreateAsync(VoxonClient voxon, string sessionId)
{
    try
    {
        return await voxon.LoadSessionAsync(sessionId);
    }
    catch (SessionNotFoundException)
    {
        var session = await voxon.CreateSessionAsync("stress", new SessionConfig { SessionId = sessionId, MaxMemorySize = 1_000_000, MemoryMode = MemoryMode.Persistent });
        return session;
    }
}
