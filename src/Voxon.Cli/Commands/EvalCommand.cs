using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Voxon.Cli.Evaluation;
using Voxon.Memory.Search;

namespace Voxon.Cli.Commands;

/// <summary><c>voxon eval retrieval --memories M.jsonl --queries Q.jsonl [--k 5,10] [--json] [--embedding-model arctic-xs|arctic-xs-fp32|arctic-xs-int8|minilm] [ablation switches]</c>.</summary>
internal static class EvalCommand
{
    public static Command Create(CliIO io)
    {
        var memories = new Option<FileInfo>("--memories") { Description = "JSON Lines: {conv, dia_id, speaker, session_date, text}", Required = true };
        var queries = new Option<FileInfo>("--queries") { Description = "JSON Lines: {conv, question, evidence[], category}", Required = true };
        var k = new Option<string>("--k") { Description = "Cut-offs, comma separated", DefaultValueFactory = _ => "5,10" };
        var json = new Option<bool>("--json") { Description = "Write the report as one JSON object" };
        var model = new Option<string?>("--embedding-model") { Description = "Local embedding model: arctic-xs (default, int8; also arctic-xs-int8), arctic-xs-fp32 or minilm" };
        var fusion = new Option<string>("--fusion") { Description = "weighted (default) or rank", DefaultValueFactory = _ => "weighted" };
        var semanticWeight = new Option<double>("--semantic-weight") { Description = "Weight of the semantic signal against lexical 1.0", DefaultValueFactory = _ => new HybridSearchOptions().SemanticWeight };
        var diversity = new Option<double>("--diversity") { Description = "Diversity of the top k, 0..1", DefaultValueFactory = _ => new HybridSearchOptions().Diversity };
        var timeBoost = new Option<double>("--time-boost") { Description = "Boost for date evidence in time questions, 0..10", DefaultValueFactory = _ => new HybridSearchOptions().TimeBoost };
        var centering = new Option<double>("--centering") { Description = "Share of the memories' mean vector taken from the query, 0..1", DefaultValueFactory = _ => new HybridSearchOptions().Centering };
        var noContext = new Option<bool>("--no-context") { Description = "Index each turn alone, without the turn before it" };
        var noDates = new Option<bool>("--no-session-dates") { Description = "Ignore session_date (memories happen when loaded)" };
        var retrieval = new Command("retrieval", "Recall@k and hit@k of memory search per category and overall, and search latency.");
        foreach (var option in (Option[])[memories, queries, k, json, model, fusion, semanticWeight, diversity, timeBoost, centering, noContext, noDates])
        {
            retrieval.Options.Add(option);
        }

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

            var search = new HybridSearchOptions
            {
                Fusion = result.GetValue(fusion)!.ToLowerInvariant() switch
                {
                    "weighted" => FusionMethod.Weighted,
                    "rank" or "rrf" => FusionMethod.ReciprocalRank,
                    var other => throw new ArgumentException($"--fusion takes weighted or rank, got '{other}'."),
                },
                SemanticWeight = result.GetValue(semanticWeight),
                Diversity = result.GetValue(diversity),
                TimeBoost = result.GetValue(timeBoost),
                Centering = result.GetValue(centering),
            };
            var options = new RetrievalOptions(result.GetValue(model), search, !result.GetValue(noContext), !result.GetValue(noDates));
            List<EvalMemory> memoryLines;
            RetrievalReport report;
            try
            {
                memoryLines = RetrievalEvaluator.ReadJsonLines<EvalMemory>(memoryFile.FullName);
                var queryLines = RetrievalEvaluator.ReadJsonLines<EvalQuery>(queryFile.FullName);
                // A session_date that is not a date is met only while loading: an error in the input, as a bad line is.
                report = await RetrievalEvaluator.RunAsync(memoryLines, queryLines, ks, options, cancellationToken);
            }
            catch (FormatException ex)
            {
                throw new ArgumentException(ex.Message, ex);
            }

            if (result.GetValue(json))
            {
                await WriteJsonAsync(io.Output, report, memoryLines.Count);
            }
            else
            {
                await WriteAsync(io.Output, report, memoryLines.Count);
            }

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
        string Row(string label, RetrievalScores scores) =>
            string.Create(CultureInfo.InvariantCulture, $"{label,-12} {scores.Queries,7}  ")
            + string.Join("  ", scores.Recall.Concat(scores.Hit).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r,9:F3}")));

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{memoryCount} memories, {report.Queries} queries scored, {report.SkippedQueries} skipped (no evidence or unknown conv)"));
        await output.WriteLineAsync($"{"category",-12} {"queries",7}  " + string.Join("  ", report.Ks.Select(k => $"{"recall@" + k,9}").Concat(report.Ks.Select(k => $"{"hit@" + k,9}"))));
        foreach (var (category, scores) in report.ByCategory.OrderBy(c => c.Key))
        {
            await output.WriteLineAsync(Row(category.ToString(CultureInfo.InvariantCulture), scores));
        }

        await output.WriteLineAsync(Row("overall", report.Overall));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"search latency (incl. query embedding): p50 {report.LatencyP50Ms:F2} ms, p99 {report.LatencyP99Ms:F2} ms"));
    }

    /// <summary>{"memories", "queries", "skipped", "ks", "overall": {"queries", "recall": {"5": ...}, "hit": {...}}, "categories": {"1": {...}}, "latency_ms": {"p50", "p99"}}.</summary>
    private static async Task WriteJsonAsync(TextWriter output, RetrievalReport report, int memoryCount)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("memories", memoryCount);
            writer.WriteNumber("queries", report.Queries);
            writer.WriteNumber("skipped", report.SkippedQueries);
            writer.WriteStartArray("ks");
            foreach (var k in report.Ks)
            {
                writer.WriteNumberValue(k);
            }

            writer.WriteEndArray();
            writer.WritePropertyName("overall");
            WriteScores(writer, report.Ks, report.Overall);
            writer.WriteStartObject("categories");
            foreach (var (category, scores) in report.ByCategory.OrderBy(c => c.Key))
            {
                writer.WritePropertyName(category.ToString(CultureInfo.InvariantCulture));
                WriteScores(writer, report.Ks, scores);
            }

            writer.WriteEndObject();
            writer.WriteStartObject("latency_ms");
            writer.WriteNumber("p50", Math.Round(report.LatencyP50Ms, 3));
            writer.WriteNumber("p99", Math.Round(report.LatencyP99Ms, 3));
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        await output.WriteLineAsync(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void WriteScores(Utf8JsonWriter writer, IReadOnlyList<int> ks, RetrievalScores scores)
    {
        writer.WriteStartObject();
        writer.WriteNumber("queries", scores.Queries);
        foreach (var (name, values) in new[] { ("recall", scores.Recall), ("hit", scores.Hit) })
        {
            writer.WriteStartObject(name);
            for (var i = 0; i < ks.Count; i++)
            {
                writer.WriteNumber(ks[i].ToString(CultureInfo.InvariantCulture), Math.Round(values[i], 4));
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }
}
