using System.CommandLine;
using System.Globalization;
using Voxon.Cli.Evaluation;

namespace Voxon.Cli.Commands;

/// <summary><c>voxon eval retrieval --memories M.jsonl --queries Q.jsonl [--k 5,10]</c>.</summary>
internal static class EvalCommand
{
    public static Command Create(CliIO io)
    {
        var memories = new Option<FileInfo>("--memories") { Description = "JSON Lines: {conv, dia_id, speaker, session_date, text}", Required = true };
        var queries = new Option<FileInfo>("--queries") { Description = "JSON Lines: {conv, question, evidence[], category}", Required = true };
        var k = new Option<string>("--k") { Description = "Cut-offs, comma separated", DefaultValueFactory = _ => "5,10" };
        var retrieval = new Command("retrieval", "Recall@k of memory search per category and overall, and search latency.");
        retrieval.Options.Add(memories);
        retrieval.Options.Add(queries);
        retrieval.Options.Add(k);
        retrieval.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            var ks = ParseKs(result.GetValue(k)!);
            var memoryFile = result.GetValue(memories)!;
            var queryFile = result.GetValue(queries)!;
            foreach (var file in (FileInfo[])[memoryFile, queryFile])
            {
                if (!file.Exists)
                {
                    throw new ArgumentException($"File not found: {file.FullName}");
                }
            }

            List<EvalMemory> memoryLines;
            List<EvalQuery> queryLines;
            try
            {
                memoryLines = RetrievalEvaluator.ReadJsonLines<EvalMemory>(memoryFile.FullName);
                queryLines = RetrievalEvaluator.ReadJsonLines<EvalQuery>(queryFile.FullName);
            }
            catch (FormatException ex)
            {
                throw new ArgumentException(ex.Message, ex);
            }

            var report = await RetrievalEvaluator.RunAsync(memoryLines, queryLines, ks, cancellationToken);
            await WriteAsync(io.Output, report, memoryLines.Count);
            return 0;
        }));

        var command = new Command("eval", "Evaluate Voxon's memory.");
        command.Subcommands.Add(retrieval);
        return command;
    }

    private static int[] ParseKs(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ks = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value is < 1 or > 1000)
            {
                throw new ArgumentException($"--k takes whole numbers from 1 to 1000 separated by commas, got '{text}'.");
            }

            ks.Add(value);
        }

        return ks.Count == 0 ? throw new ArgumentException("--k needs at least one cut-off.") : [.. ks.Distinct().Order()];
    }

    private static async Task WriteAsync(TextWriter output, RetrievalReport report, int memoryCount)
    {
        string Row(string label, int n, double[] recall) =>
            string.Create(CultureInfo.InvariantCulture, $"{label,-12} {n,7}  ") + string.Join("  ", recall.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r,9:F3}")));

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{memoryCount} memories, {report.Queries} queries scored, {report.SkippedQueries} skipped (no evidence or unknown conv)"));
        await output.WriteLineAsync($"{"category",-12} {"queries",7}  " + string.Join("  ", report.Ks.Select(k => $"{"recall@" + k,9}")));
        foreach (var (category, bucket) in report.ByCategory.OrderBy(c => c.Key))
        {
            await output.WriteLineAsync(Row(category.ToString(CultureInfo.InvariantCulture), bucket.Queries, bucket.Recall));
        }

        await output.WriteLineAsync(Row("overall", report.Queries, report.Recall));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"search latency (incl. query embedding): p50 {report.LatencyP50Ms:F2} ms, p99 {report.LatencyP99Ms:F2} ms"));
    }
}
