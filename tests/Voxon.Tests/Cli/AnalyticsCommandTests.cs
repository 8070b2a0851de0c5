using System.Diagnostics;
using Voxon.Cli;
using Voxon.Sessions;
using Voxon.Tests.Adaptation;
using Voxon.Tests.Analytics;

namespace Voxon.Tests.Cli;

public sealed class AnalyticsCommandTests
{
    [Fact]
    public async Task Analytics_prints_session_conversation_and_preference_analytics_with_charts()
    {
        await using var client = InsightsTestClient.Create();
        var sessionId = await StoredSessionAsync(client);
        var output = new StringWriter();
        var error = new StringWriter();

        var code = await VoxonCommand.RunAsync(["analytics", sessionId, "--store", client.Folder, "--chart"], TextReader.Null, output, error);

        Assert.True(code == 0, error.ToString());
        var text = output.ToString();
        Assert.Contains("Conversations: 1  messages: 8", text);
        Assert.Contains("Topics: quantum mechanics", text);
        Assert.Contains("Satisfaction: 4.5/5 (explicit)", text);
        Assert.Contains("Most active hours (Europe/Paris): 15:00", text);
        Assert.Contains("1 interruptions", text);
        Assert.Contains("Metric user_satisfaction: count 1", text);
        Assert.Contains("Learned preferences (4 messages)", text);
        Assert.Contains("Messages by hour", text);
        Assert.Contains("Topics (mentions)", text);
        Assert.Matches(@"15:00\s+[█▌]+\s+4", text);
    }

    [Fact]
    public async Task Analytics_of_an_unknown_session_is_one_error_line()
    {
        await using var client = InsightsTestClient.Create();
        var error = new StringWriter();

        var code = await VoxonCommand.RunAsync(["analytics", "sess_missing", "--store", client.Folder], TextReader.Null, new StringWriter(), error);

        Assert.Equal(1, code);
        Assert.StartsWith("error: ", error.ToString());
    }

    [Fact]
    public async Task The_built_voxon_tool_prints_analytics()
    {
        await using var client = InsightsTestClient.Create();
        var sessionId = await StoredSessionAsync(client);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { CliDll(), "analytics", sessionId, "--store", client.Folder, "--chart" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in new[] { "VOXON_MODEL_ENDPOINT", "VOXON_MODEL", "VOXON_API_KEY", "VOXON_SESSIONS" })
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(process.ExitCode == 0, await stderr);
        var text = await stdout;
        Assert.Contains($"Session {sessionId}", text);
        Assert.Contains("Topics: quantum mechanics", text);
        Assert.Contains("Messages by hour", text);
    }

    /// <summary>A saved session: four formal, technical messages at 14:30 UTC (15:30 in Paris), one interruption, one rating.</summary>
    private static async Task<string> StoredSessionAsync(InsightsTestClient client)
    {
        var session = await client.Voxon.CreateSessionAsync("user_1", new SessionConfig { TimeZone = "Europe/Paris" });
        var conversation = await session.StartConversationAsync();
        foreach (var message in PreferenceLearningTests.FormalTechnicalUser.Take(3).Append("What else is there in quantum mechanics?"))
        {
            await conversation.SendMessageAsync(message);
        }

        conversation.ReportInterruption();
        session.TrackMetric("user_satisfaction", 4.5);
        await session.SaveAsync();
        return session.SessionId;
    }

    /// <summary>The CLI built next to this test assembly's configuration (the test project references it).</summary>
    private static string CliDll()
    {
        var local = Path.Combine(AppContext.BaseDirectory, "Voxon.Cli.dll");
        if (File.Exists(local) && File.Exists(Path.Combine(AppContext.BaseDirectory, "Voxon.Cli.runtimeconfig.json")))
        {
            return local;
        }

        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Voxon.slnx")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        return Path.Combine(root.FullName, "src", "Voxon.Cli", "bin", configuration, "net10.0", "Voxon.Cli.dll");
    }
}
