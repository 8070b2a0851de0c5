using System.Globalization;
using Voxon.Storage;
using Voxon.Storage.Worker;

// voxon-storage-worker BACKEND TARGET SPACE MODE SESSION_ID COUNT
//   stream: add a memory and save, COUNT times (or forever with 0); prints "ACK <version>" after each acknowledged save.
//   hammer: COUNT times: load, add a memory, save, retrying on a concurrency conflict; prints "ACK <content>" after each.
if (args.Length != 6)
{
    Console.Error.WriteLine("usage: BACKEND TARGET SPACE stream|hammer SESSION_ID COUNT");
    return 2;
}

var (backend, target, space, mode, sessionId) = (args[0], args[1], args[2], args[3], args[4]);
var count = int.Parse(args[5], CultureInfo.InvariantCulture);
await using var storage = WorkerStorage.Open(backend, target, space);
await using var client = WorkerStorage.Client(storage);
var tag = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
if (mode == "stream")
{
    var session = await client.LoadSessionAsync(sessionId);
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
