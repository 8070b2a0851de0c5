using Voxon.Cli;
using Voxon.Cli.Evaluation;

namespace Voxon.Tests.Memory;

public sealed class RetrievalEvaluationTests
{
    private static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "Data", "eval", name);

    [Fact]
    public async Task Eval_retrieval_prints_recall_per_category_overall_and_latency()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await VoxonCommand.RunAsync(
            ["eval", "retrieval", "--memories", DataFile("memories.jsonl"), "--queries", DataFile("queries.jsonl"), "--k", "1,5"],
            TextReader.Null, output, error);

        Assert.Equal(0, code);
        var text = output.ToString();
        Assert.Contains("recall@1", text, StringComparison.Ordinal);
        Assert.Contains("recall@5", text, StringComparison.Ordinal);
        Assert.Contains("overall", text, StringComparison.Ordinal);
        Assert.Contains("p99", text, StringComparison.Ordinal);
        Assert.Empty(error.ToString());
    }

    [Fact]
    public async Task Recall_is_computed_from_the_evidence_ids()
    {
        EvalMemory M(string id, string text) => new("c", id, text, "A", "2024-01-01");
        var memories = new[] { M("1", "I adopted a beagle named Rex"), M("2", "My sister lives in Oslo"), M("3", "I play the cello on Sundays") };
        var queries = new[]
        {
            new EvalQuery("c", "What is the dog's name?", ["1"], 1),
            new EvalQuery("c", "Which instrument do I play and where does my sister live?", ["2", "3"], 2),
            new EvalQuery("unknown", "Anything?", ["9"], 1),
        };

        var report = await RetrievalEvaluator.RunAsync(memories, queries, [3]);

        Assert.Equal(2, report.Queries);
        Assert.Equal(1, report.SkippedQueries);
        Assert.Equal(1.0, report.Recall[0], 6); // k = 3 covers all three memories
        Assert.Equal(1.0, report.ByCategory[2].Recall[0], 6);

        // At k = 1 the two-evidence query finds one of its turns: recall 0.5, but a hit.
        var top1 = await RetrievalEvaluator.RunAsync(memories, queries, [1]);
        Assert.Equal(0.5, top1.ByCategory[2].Recall[0], 6);
        Assert.Equal(1.0, top1.ByCategory[2].Hit[0], 6);
    }

    [Fact]
    public async Task Eval_retrieval_json_reports_recall_and_hit_per_category_with_the_chosen_model()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await VoxonCommand.RunAsync(
            ["eval", "retrieval", "--memories", DataFile("memories.jsonl"), "--queries", DataFile("queries.jsonl"), "--k", "1,5", "--json", "--embedding-model", "minilm"],
            TextReader.Null, output, error);

        Assert.Equal(0, code);
        Assert.Empty(error.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(output.ToString());
        var root = json.RootElement;
        Assert.Equal(17, root.GetProperty("queries").GetInt32());
        var categories = root.GetProperty("categories").EnumerateObject().ToList();
        Assert.NotEmpty(categories);
        foreach (var scores in categories.Select(c => c.Value).Append(root.GetProperty("overall")))
        {
            foreach (var k in new[] { "1", "5" })
            {
                Assert.InRange(scores.GetProperty("recall").GetProperty(k).GetDouble(), 0, scores.GetProperty("hit").GetProperty(k).GetDouble());
            }
        }

        Assert.True(root.GetProperty("latency_ms").GetProperty("p50").GetDouble() > 0);
    }

    [Theory]
    [InlineData("--embedding-model", "gpt-embed", "gpt-embed")]
    [InlineData("--centering", "2", "Centering must be between 0 and 1 (was 2)")]
    public async Task Bad_switch_value_is_a_clear_error(string option, string value, string expected)
    {
        var error = new StringWriter();
        var code = await VoxonCommand.RunAsync(
            ["eval", "retrieval", "--memories", DataFile("memories.jsonl"), "--queries", DataFile("queries.jsonl"), option, value],
            TextReader.Null, new StringWriter(), error);

        Assert.Equal(1, code);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_line_is_reported_with_its_file_and_line_number()
    {
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(path, ["{\"conv\":\"c\",\"dia_id\":\"1\",\"text\":\"ok\"}", "{not json"]);
            var error = new StringWriter();
            var code = await VoxonCommand.RunAsync(["eval", "retrieval", "--memories", path, "--queries", path], TextReader.Null, new StringWriter(), error);
            Assert.Equal(1, code);
            Assert.Contains($"{path}:2", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_session_date_that_is_not_a_date_is_a_clear_error()
    {
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(path, ["{\"conv\":\"c\",\"dia_id\":\"1\",\"text\":\"ok\",\"session_date\":\"last Tuesday\"}"]);
            var error = new StringWriter();
            var code = await VoxonCommand.RunAsync(["eval", "retrieval", "--memories", path, "--queries", DataFile("queries.jsonl")], TextReader.Null, new StringWriter(), error);
            Assert.Equal(1, code);
            Assert.StartsWith("error: session_date 'last Tuesday' is not a date", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
