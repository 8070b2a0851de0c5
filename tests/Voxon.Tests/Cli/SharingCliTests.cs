using System.Diagnostics;
using System.Text.RegularExpressions;
using Voxon.Tests.Sharing;

namespace Voxon.Tests.Cli;

/// <summary>Runs the built <c>Voxon.Cli.dll</c> as a process: export, import with a user id mapping, and share create/list/revoke.</summary>
public sealed partial class SharingCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Export_import_and_share_commands_work_end_to_end()
    {
        var source = _dir.Sub("source");
        string sessionId;
        await using (var voxon = FeatureKit.Client(source))
        {
            var session = await voxon.CreateSessionAsync("old_1");
            await session.AddMemoryAsync("Likes tea", "preference");
            await session.SaveAsync();
            sessionId = session.SessionId;
        }

        var export = await RunAsync("--store", source, "sessions", "export", sessionId);
        Assert.Equal(0, export.Code);
        var file = _dir.Sub("export.json");
        await File.WriteAllTextAsync(file, export.Out);

        var target = _dir.Sub("target");
        var import = await RunAsync("--store", target, "sessions", "import", file, "--map", "old_1=new_1");
        Assert.True(import.Code == 0, import.Err);
        Assert.Contains($"Imported session {sessionId} for user new_1", import.Out, StringComparison.Ordinal);

        var again = await RunAsync("--store", target, "sessions", "import", file);
        Assert.NotEqual(0, again.Code);
        Assert.StartsWith("error: Cannot import the session: session", again.Err, StringComparison.Ordinal);
        Assert.Single(again.Err.Trim().Split('\n'));

        var none = await RunAsync("--store", target, "share", "list", sessionId);
        Assert.True(none.Code == 0, none.Err);
        Assert.Equal("No shares.", none.Out.Trim());
        var mistyped = await RunAsync("--store", target, "share", "list", sessionId + "x");
        Assert.Equal(1, mistyped.Code);
        Assert.Equal($"error: Session '{sessionId}x' was not found in file storage.", mistyped.Err.Trim());
        Assert.Equal(string.Empty, mistyped.Out);

        var create = await RunAsync("--store", target, "share", "create", sessionId, "--with", "doc_1", "--permissions", "read,add_notes", "--hours", "24");
        Assert.True(create.Code == 0, create.Err);
        var token = TokenLine().Match(create.Out).Groups[1].Value;
        var shareId = ShareLine().Match(create.Out).Groups[1].Value;
        Assert.Equal(43, token.Length);

        var list = await RunAsync("--store", target, "share", "list", sessionId);
        Assert.Contains(shareId, list.Out, StringComparison.Ordinal);
        Assert.Contains("active", list.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(token, list.Out, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync("--store", target, "share", "revoke", sessionId, shareId)).Code);
        Assert.Contains("revoked", (await RunAsync("--store", target, "share", "list", sessionId)).Out, StringComparison.Ordinal);

        var bad = await RunAsync("--store", target, "share", "create", sessionId, "--with", "doc_1", "--permissions", "write");
        Assert.NotEqual(0, bad.Code);
        Assert.StartsWith("error: ", bad.Err, StringComparison.Ordinal);

        await using var check = FeatureKit.Client(target);
        var views = await check.ListSharesAsync(sessionId);
        Assert.NotNull(Assert.Single(views).RevokedAt);
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Voxon.Cli.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("VOXON_MODEL_ENDPOINT");
        start.Environment.Remove("VOXON_MODEL");
        start.Environment.Remove("VOXON_API_KEY");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("voxon " + string.Join(' ', args) + " did not finish in 60 s");
        }

        return (process.ExitCode, await output, await error);
    }

    [GeneratedRegex(@"token: (\S+)")]
    private static partial Regex TokenLine();

    [GeneratedRegex(@"Share (share_\S+)")]
    private static partial Regex ShareLine();
}
