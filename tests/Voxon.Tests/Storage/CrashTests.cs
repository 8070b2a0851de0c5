using System.Globalization;
using Voxon.Storage;

namespace Voxon.Tests.Storage;

public sealed class CrashTests
{
    [Fact]
    public async Task A_process_killed_mid_stream_of_saves_leaves_the_last_acknowledged_version_loadable()
    {
        var folder = Path.Combine(Path.GetTempPath(), "voxon-crash-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var child = new StressProcess("stream", "file", folder, "crash_session", "100000"))
            {
                await child.WaitForAcksAsync(40, TimeSpan.FromSeconds(60));
                child.Kill();
                var last = child.Acks[^1].Split(' ');
                var acknowledgedVersion = long.Parse(last[0], CultureInfo.InvariantCulture);
                var acknowledgedFact = $"stream fact {last[1]}";

                await using var voxon = new VoxonClient(new VoxonOptions { Storage = new FileSessionStorage(folder), UseEnvironment = false });
                var session = await voxon.LoadSessionAsync("crash_session");

                Assert.True(session.Version >= acknowledgedVersion, $"loaded version {session.Version} is older than acknowledged {acknowledgedVersion}");
                Assert.Contains(session.GetMemory().Entries, e => e.Content == acknowledgedFact);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
