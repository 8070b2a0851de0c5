using System.Diagnostics;
using Voxon.Cli;

namespace Voxon.Tests.Cli;

/// <summary>Runs the built <c>voxon</c> CLI as a separate process, with no model configured in its environment.</summary>
public static class CliProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The CLI assembly the test project references, with its runtimeconfig beside it.</summary>
    public static string CliPath
    {
        get
        {
            var path = typeof(VoxonCommand).Assembly.Location;
            Assert.True(File.Exists(Path.ChangeExtension(path, ".runtimeconfig.json")), $"no runtimeconfig beside {path}");
            return path;
        }
    }

    public static Task<Result> RunAsync(string workingDirectory, string? input, params string[] args) =>
        RunAsync(workingDirectory, input, null, args);

    /// <summary>Runs the CLI with <paramref name="environment"/> added to a clean Voxon environment.</summary>
    public static Task<Result> RunWithAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, string? input, params string[] args) =>
        RunAsync(workingDirectory, input, environment, args);

    /// <summary>Runs the CLI with <paramref name="environment"/> added to its environment.</summary>
    public static async Task<Result> RunAsync(string workingDirectory, string? input, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CliPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in new[] { "VOXON_MODEL_ENDPOINT", "VOXON_MODEL", "VOXON_API_KEY", "VOXON_SESSIONS", "VOXON_REALTIME_ENDPOINT", "VOXON_REALTIME_MODEL", "VOXON_SESSION_KEY", "VOXON_SESSION_PREVIOUS_KEYS", "VOXON_STORAGE", "VOXON_DATABASE_URL", "VOXON_REDIS_URL" })
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input ?? string.Empty);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"voxon {string.Join(' ', args)} did not finish within {Timeout}; killed it.");
        }

        return new Result(process.ExitCode, await output, await error);
    }
}
