using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Voxon.Tests.TestSupport;

/// <summary>
/// Runs a .NET program under strace, which lists its system calls in order, and checks that every folder entry it
/// makes under a folder (a rename's target, a new folder, a new file other than a lock or temporary file) is followed
/// by an fsync of that entry's folder before the program next writes its acknowledgement: a file's own fsync does not
/// cover its entry in its folder, so without it an acknowledged write can be undone by a power loss.
/// </summary>
internal static partial class DurabilityTrace
{
    /// <summary>What a traced run did.</summary>
    /// <param name="Output">Its standard output.</param>
    /// <param name="Acknowledgements">The writes holding the acknowledgement text, in order.</param>
    /// <param name="Unflushed">For each acknowledgement written with entries not flushed, those entries' folders.</param>
    /// <param name="Flushed">The folders fsynced, in order.</param>
    public sealed record Result(string Output, int Acknowledgements, IReadOnlyList<string> Unflushed, IReadOnlyList<string> Flushed);

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> under strace, its trace written in
    /// <paramref name="folder"/>, and checks the entries made under <paramref name="folder"/> against each write of
    /// <paramref name="acknowledgement"/>.</summary>
    /// <exception cref="InvalidOperationException">strace is missing or the program failed.</exception>
    public static async Task<Result> RunAsync(string folder, IEnumerable<string> arguments, string acknowledgement, IReadOnlyDictionary<string, string>? environment = null)
    {
        var trace = Path.Combine(folder, "strace.txt");
        var info = new ProcessStartInfo("strace") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["-f", "-y", "-qq", "-o", trace, "-e", "trace=rename,renameat,renameat2,link,linkat,mkdir,mkdirat,openat,fsync,write", "dotnet", .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("strace is needed for this test (scripts/test.sh installs it)", ex);
        }

        string output;
        using (process)
        {
            output = await process.StandardOutput.ReadToEndAsync();
            var errors = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"the traced program failed ({process.ExitCode}): {errors}");
            }
        }

        var made = new List<string>();
        var created = new HashSet<string>(StringComparer.Ordinal);
        var flushed = new List<string>();
        var unflushed = new List<string>();
        var acknowledgements = 0;
        foreach (var line in await File.ReadAllLinesAsync(trace))
        {
            var entry = Entry().Match(line);
            if (entry.Success && entry.Groups["path"].Value is var path && path.StartsWith(folder, StringComparison.Ordinal)
                && path != trace && !path.EndsWith(".lock", StringComparison.Ordinal) && !path.EndsWith(".tmp", StringComparison.Ordinal)
                && !path.Contains(".tmp-", StringComparison.Ordinal)
                && (!line.Contains("openat(", StringComparison.Ordinal) || created.Add(path)))
            {
                made.Add(Path.GetDirectoryName(path)!);
            }
            else if (Sync().Match(line) is { Success: true } sync)
            {
                made.RemoveAll(m => m == sync.Groups["path"].Value);
                flushed.Add(sync.Groups["path"].Value);
            }
            else if (line.Contains(" write(", StringComparison.Ordinal) && line.Contains(acknowledgement, StringComparison.Ordinal))
            {
                acknowledgements++;
                if (made.Count > 0)
                {
                    unflushed.Add($"acknowledgement {acknowledgements}: {string.Join(", ", made.Distinct())}");
                }
            }
        }

        return new Result(output, acknowledgements, unflushed, flushed);
    }

    // A rename's target, a new folder, or a file opened with O_CREAT (new the first time its path is seen), succeeded.
    [GeneratedRegex("""(?:rename(?:at2?)?\(.*, "(?<path>[^"]+)"(?:, \w+)?\) = 0|link(?:at)?\(.*, "(?<path>[^"]+)"(?:, \w+)?\) = 0|mkdir(?:at)?\((?:[^,]+, )?"(?<path>[^"]+)", \d+\) = 0|openat\([^,]+, "(?<path>[^"]+)", [^)]*O_CREAT[^)]*\) = \d)""")]
    private static partial Regex Entry();

    [GeneratedRegex(@"fsync\(\d+<(?<path>[^>]+)>")]
    private static partial Regex Sync();
}
