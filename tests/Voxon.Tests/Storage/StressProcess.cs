using System.Diagnostics;

namespace Voxon.Tests.Storage;

/// <summary>Runs the stress child (tests/Voxon.Storage.Stress) and collects the lines it acknowledges.</summary>
internal sealed class StressProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _acks = [];

    public StressProcess(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(Voxon.Storage.Stress.Backends).Assembly.Location);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("the stress child did not start");
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith("ack ", StringComparison.Ordinal))
            {
                lock (_acks)
                {
                    _acks.Add(line[4..]);
                }
            }
        };
        _process.BeginOutputReadLine();
    }

    public IReadOnlyList<string> Acks
    {
        get
        {
            lock (_acks)
            {
                return [.. _acks];
            }
        }
    }

    /// <summary>Waits until the child has acknowledged <paramref name="count"/> saves.</summary>
    public async Task WaitForAcksAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Acks.Count < count)
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the stress child acknowledged {Acks.Count} of {count} saves; stderr: {await _process.StandardError.ReadToEndAsync()}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>SIGKILL, no chance to clean up.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        _process.WaitForExit(); // drains the asynchronous output readers
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
