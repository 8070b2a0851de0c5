using System.Globalization;
using Voxon.Storage;
using Voxon.Storage.Worker;

// voxon-storage-worker BACKEND TARGET SPACE MODE SESSION_ID COUNT
//   stream: add a memory and save, COUNT times (or forever with 0); prints "ACK <version>" after each acknowledged save.
//   create: the same on a new session of user SESSION_ID (a user id here), first saved (and acknowledged) empty.
//   hammer: COUNT times: load, add a memory, save, retrying on a concurrency conflict; prints "ACK <content>" after each.
//   erase: erases user SESSION_ID (a user id here); after COUNT sessions prints "ERASED <n>" and hangs, to be killed.
// VOXON_WORKER_KEY, when set, is the storage's encryption key.
if (args.Length != 6)
{
    Console.Error.WriteLine("usage: BACKEND TARGET SPACE stream|create|hammer|erase SESSION_ID COUNT");
    return 2;
}

var (backend, target, space, mode, sessionId) = (args[0], args[1], args[2], args[3], args[4]);
var count = int.Parse(args[5], CultureInfo.InvariantCulture);
await using var storage = WorkerStorage.Open(backend, target, space, SessionEncryption.FromEnvironment("VOXON_WORKER_KEY"));
await using var client = WorkerStorage.Client(storage);
var tag = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
if (mode == "erase")
{
    await storage.EraseUserAsync(sessionId, new ErasureOptions { Progress = new HangAfter(count) });
    return 0;
}

if (mode is "stream" or "create")
{
    var session = mode == "create" ? await client.CreateSessionAsync(sessionId) : await client.LoadSessionAsync(sessionId);
    if (mode == "create")
    {
        await session.SaveAsync();
        Console.WriteLine($"ACK {session.Version}");
    }

    for (var i = 0; count == 0 || i < count; i++)
    {
        await session.AddMemoryAsync($"stream fact {tag} {i}");
        await session.SaveAsync();
        Console.WriteLine($"ACK {session.Version}");
    }

    return 0;
}

for (var i = 0; i < count; i++)
{
    var content = $"hammer fact {tag} {i}";
    for (var attempt = 0; ; attempt++)
    {
        var session = await client.LoadSessionAsync(sessionId);
        await session.AddMemoryAsync(content);
        try
        {
            await session.SaveAsync();
            break;
        }
        catch (SessionConcurrencyException) when (attempt < 200)
        {
            await Task.Delay(Random.Shared.Next(1, 10));
        }
    }

    Console.WriteLine($"ACK {content}");
}

return 0;

/// <summary>Reports progress on stdout, then blocks the erasing thread for good after <paramref name="sessions"/> sessions.</summary>
internal sealed class HangAfter(int sessions) : IProgress<(int Done, int Total)>
{
    public void Report((int Done, int Total) value)
    {
        if (value.Done >= sessions)
        {
            Console.WriteLine($"ERASED {value.Done}");
            Console.Out.Flush();
            Thread.Sleep(Timeout.Infinite);
        }
    }
}
