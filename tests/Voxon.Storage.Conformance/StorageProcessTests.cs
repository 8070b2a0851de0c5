using System.Diagnostics;
using System.Globalization;
using Voxon.Storage.Worker;

namespace Voxon.Storage.Conformance;

/// <summary>Crash and multi-process behaviour, with real OS processes (the Voxon.Storage.Worker program).</summary>
public abstract class StorageProcessTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : StorageFixture
{
    protected TFixture Fixture { get; } = fixture;

    [SkippableFact]
    public virtual async Task Killed_writer_loses_no_acknowledged_version()
    {
        var sessionId = await CreateSessionAsync("user_crash");
        using var worker = Start("stream", sessionId, 0);
        var acknowledged = 0L;
        while (acknowledged < 40 && await worker.StandardOutput.ReadLineAsync() is { } line)
        {
            acknowledged = Math.Max(acknowledged, long.Parse(line["ACK ".Length..], CultureInfo.InvariantCulture));
        }

        worker.Kill(entireProcessTree: true); // SIGKILL: no flush, no cleanup
        await worker.WaitForExitAsync();
        while (await worker.StandardOutput.ReadLineAsync() is { } rest)
        {
            acknowledged = Math.Max(acknowledged, long.Parse(rest["ACK ".Length..], CultureInfo.InvariantCulture));
        }

        Assert.True(acknowledged >= 40, $"the worker acknowledged only {acknowledged} saves: {await worker.StandardError.ReadToEndAsync()}");
        var storage = Fixture.Create();
        var stored = await storage.LoadAsync(sessionId);
        Assert.NotNull(stored);
        Assert.True(stored.Version >= acknowledged, $"version {stored.Version} loaded after version {acknowledged} was acknowledged");

        // The session is still writable after the crash.
        await using var client = WorkerStorage.Client(storage);
        var session = await client.LoadSessionAsync(sessionId);
        await session.AddMemoryAsync("after the crash");
        await session.SaveAsync();
        Assert.Equal(stored.Version + 1, (await storage.LoadAsync(sessionId))!.Version);
    }

    [SkippableFact]
    public virtual async Task Two_processes_hammering_one_session_lose_no_acknowledged_update()
    {
        const int PerWorker = 12;
        var sessionId = await CreateSessionAsync("user_hammer");
        using var first = Start("hammer", sessionId, PerWorker);
        using var second = Start("hammer", sessionId, PerWorker);
        var outputs = await Task.WhenAll(first.StandardOutput.ReadToEndAsync(), second.StandardOutput.ReadToEndAsync());
        await Task.WhenAll(first.WaitForExitAsync(), second.WaitForExitAsync());
        Assert.True(first.ExitCode == 0 && second.ExitCode == 0, await first.StandardError.ReadToEndAsync() + await second.StandardError.ReadToEndAsync());

        var acknowledged = outputs.SelectMany(o => o.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(l => l["ACK ".Length..].Trim()).ToList();
        Assert.Equal(2 * PerWorker, acknowledged.Count);
        var stored = (await Fixture.Create().LoadAsync(sessionId))!;
        var contents = stored.Memory.Entries.Select(e => e.Content).ToHashSet();
        Assert.All(acknowledged, a => Assert.Contains(a, contents));
        Assert.Equal(1 + (2 * PerWorker), stored.Version);
    }

    [SkippableFact]
    public virtual async Task Erasure_killed_midway_resumes_and_completes_on_the_next_call()
    {
        Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);
        const string Key = "worker erasure key";
        var storage = Fixture.Create(SessionEncryption.FromKey(Key));
        await using var client = WorkerStorage.Client(storage);
        var victim = "user_killed_" + Fixture.Space;
        var bystander = "user_bystander_" + Fixture.Space;
        for (var i = 0; i < 4; i++)
        {
            foreach (var user in new[] { victim, bystander })
            {
                var session = await client.CreateSessionAsync(user);
                await session.AddMemoryAsync($"{user} fact {i}");
                await session.SaveAsync();
            }
        }

        using (var worker = Start("erase", victim, 1, ("VOXON_WORKER_KEY", Key)))
        {
            var line = await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            worker.Kill(); // SIGKILL in the middle of the erasure
            await worker.WaitForExitAsync();
            Assert.True(line == "ERASED 1", $"the worker said '{line}': {await worker.StandardError.ReadToEndAsync()}");
        }

        // Half done: the key is gone, some sessions are left.
        var remaining = await storage.ListAsync(victim);
        Assert.Equal(3, remaining.Count);
        await Assert.ThrowsAsync<SessionCorruptException>(() => Fixture.Create(SessionEncryption.FromKey(Key)).LoadAsync(remaining[0].SessionId));

        var resumed = await client.EraseUserAsync(victim);
        Assert.True(resumed.Resumed);
        Assert.Equal(4, resumed[ErasureReceipt.Sessions]);
        Assert.Equal(4, resumed[ErasureReceipt.Memories]);
        Assert.Equal(1, resumed[ErasureReceipt.Keys]);
        Assert.Empty(await storage.ListAsync(victim));
        Assert.True((await client.EraseUserAsync(victim)).NothingErased);

        var left = await storage.ListAsync(bystander);
        Assert.Equal(4, left.Count);
        foreach (var summary in left)
        {
            Assert.StartsWith(bystander + " fact", (await storage.LoadAsync(summary.SessionId))!.Memory.Entries.Single().Content, StringComparison.Ordinal);
        }
    }

    private async Task<string> CreateSessionAsync(string userId)
    {
        Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);
        await using var client = WorkerStorage.Client(Fixture.Create());
        var session = await client.CreateSessionAsync(userId, new Sessions.SessionConfig { MaxMemorySize = 1_000_000 });
        await session.SaveAsync();
        return session.SessionId;
    }

    private Process Start(string mode, string sessionId, int count, params (string Name, string Value)[] environment)
    {
        var worker = Path.Combine(AppContext.BaseDirectory, "Voxon.Storage.Worker.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        foreach (var argument in new[] { worker, Fixture.Backend, Fixture.Target!, Fixture.Space, mode, sessionId, count.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start the worker");
    }
}
