using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Cli.Evaluation;

/// <summary>One memory line of an evaluation set.</summary>
public sealed record EvalMemory(
    [property: JsonPropertyName("conv")] string Conv,
    [property: JsonPropertyName("dia_id")] string DiaId,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("speaker")] string? Speaker = null,
    [property: JsonPropertyName("session_date")] string? SessionDate = null);

/// <summary>One query line of an evaluation set.</summary>
public sealed record EvalQuery(
    [property: JsonPropertyName("conv")] string Conv,
    [property: JsonPropertyName("question")] string Question,
    [property: JsonPropertyName("evidence")] IReadOnlyList<string> Evidence,
    [property: JsonPropertyName("category")] int Category);

/// <summary>Recall and hit rate at each k for a group of queries.</summary>
/// <param name="Queries">How many queries were scored.</param>
/// <param name="Recall">Per k: the mean share of a query's evidence found in the top k.</param>
/// <param name="Hit">Per k: the share of queries with at least one evidence turn in the top k.</param>
public sealed record RetrievalScores(int Queries, double[] Recall, double[] Hit);

/// <summary>Recall and hit rate at each k, per category and overall, and search latency.</summary>
public sealed record RetrievalReport(
    IReadOnlyList<int> Ks,
    IReadOnlyDictionary<int, RetrievalScores> ByCategory,
    RetrievalScores Overall,
    double LatencyP50Ms,
    double LatencyP99Ms,
    int SkippedQueries)
{
    /// <summary>How many queries were scored.</summary>
    public int Queries => Overall.Queries;

    /// <summary>Overall recall per k.</summary>
    public double[] Recall => Overall.Recall;
}

/// <summary>How the evaluation loads and searches memories (the defaults are the product's defaults).</summary>
/// <param name="EmbeddingModel">A local model name for <see cref="Voxon.Memory.Search.LocalEmbeddingGenerator.ForModel"/>; null for the default.</param>
/// <param name="Search">Search tuning; null for the defaults.</param>
/// <param name="DialogueContext">Index each turn with the turn before it in its session.</param>
/// <param name="SessionDates">Read <c>session_date</c> into each memory's time.</param>
public sealed record RetrievalOptions(
    string? EmbeddingModel = null,
    Voxon.Memory.Search.HybridSearchOptions? Search = null,
    bool DialogueContext = true,
    bool SessionDates = true);

/// <summary>
/// Loads each conversation's memories into a session through the public API (AddMemoryAsync), runs every
/// query through SearchMemoryAsync and scores recall@k: the share of a query's evidence ids found in the top k.
/// Nothing is written to storage.
/// </summary>
public static class RetrievalEvaluator
{
    /// <summary>Reads a JSON Lines file of <typeparamref name="T"/>, naming the line of any bad record.</summary>
    /// <exception cref="FormatException">A line is not a valid record.</exception>
    public static List<T> ReadJsonLines<T>(string path)
    {
        var items = new List<T>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                items.Add(JsonSerializer.Deserialize<T>(line, JsonOptions) ?? throw new JsonException("null record"));
            }
            catch (JsonException ex)
            {
                throw new FormatException($"{path}:{number}: not a valid {typeof(T).Name.Replace("Eval", string.Empty, StringComparison.Ordinal).ToLowerInvariant()} record ({ex.Message})", ex);
            }
        }

        return items;
    }

    /// <summary>Runs the evaluation.</summary>
    /// <exception cref="FormatException">A <c>session_date</c> is not a date.</exception>
    public static async Task<RetrievalReport> RunAsync(IReadOnlyList<EvalMemory> memories, IReadOnlyList<EvalQuery> queries, IReadOnlyList<int> ks, RetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RetrievalOptions();
        var folder = Path.Combine(Path.GetTempPath(), "voxon-eval-" + Guid.NewGuid().ToString("N")[..8]);
        await using var voxon = new VoxonClient(new VoxonOptions
        {
            Storage = new FileSessionStorage(folder),
            UseEnvironment = false,
            EmbeddingGenerator = options.EmbeddingModel is null ? null : Voxon.Memory.Search.LocalEmbeddingGenerator.ForModel(options.EmbeddingModel),
            MemorySearch = options.Search ?? new(),
        });
        var maxK = ks.Max();
        var sessions = new Dictionary<string, (Session Session, Dictionary<string, List<string>> DiaIds)>(StringComparer.Ordinal);
        foreach (var group in memories.GroupBy(m => m.Conv))
        {
            var session = await voxon.CreateSessionAsync("eval", new SessionConfig { MaxMemorySize = int.MaxValue / 2, MemoryMode = MemoryMode.Persistent }, cancellationToken);
            var ids = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            EvalMemory? previous = null;
            foreach (var memory in group)
            {
                var content = Line(memory);
                var context = options.DialogueContext && previous is not null && previous.SessionDate == memory.SessionDate ? Line(previous) : null;
                var occurredAt = options.SessionDates && memory.SessionDate is { Length: > 0 } date ? SessionDates.Parse(date) : (DateTimeOffset?)null;
                previous = memory;
                var entry = await session.AddMemoryAsync(content, "dialogue", occurredAt: occurredAt, context: context, cancellationToken: cancellationToken);
                ids.TryAdd(entry.Id, []);
                ids[entry.Id].Add(memory.DiaId);
            }

            sessions[group.Key] = (session, ids);
        }

        var byCategory = new Dictionary<int, RetrievalScores>();
        var overall = new RetrievalScores(0, new double[ks.Count], new double[ks.Count]);
        var latencies = new List<double>();
        var scored = 0;
        var skipped = 0;
        foreach (var query in queries)
        {
            if (query.Evidence.Count == 0 || !sessions.TryGetValue(query.Conv, out var target))
            {
                skipped++;
                continue;
            }

            var started = Stopwatch.GetTimestamp();
            var hits = await target.Session.SearchMemoryAsync(query.Question, maxK, cancellationToken: cancellationToken);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            var ranked = hits.Select(h => target.DiaIds[h.Entry.Id]).ToList();
            var evidence = query.Evidence.ToHashSet(StringComparer.Ordinal);
            if (!byCategory.TryGetValue(query.Category, out var bucket))
            {
                bucket = new RetrievalScores(0, new double[ks.Count], new double[ks.Count]);
            }

            for (var i = 0; i < ks.Count; i++)
            {
                var found = ranked.Take(ks[i]).SelectMany(d => d).Where(evidence.Contains).Distinct(StringComparer.Ordinal).Count();
                var recall = (double)found / evidence.Count;
                var hit = found > 0 ? 1 : 0;
                bucket.Recall[i] += recall;
                bucket.Hit[i] += hit;
                overall.Recall[i] += recall;
                overall.Hit[i] += hit;
            }

            byCategory[query.Category] = bucket with { Queries = bucket.Queries + 1 };
            scored++;
        }

        foreach (var bucket in byCategory.Values.Append(overall with { Queries = scored }))
        {
            for (var i = 0; i < ks.Count && bucket.Queries > 0; i++)
            {
                bucket.Recall[i] /= bucket.Queries;
                bucket.Hit[i] /= bucket.Queries;
            }
        }

        latencies.Sort();
        double Percentile(double p) => latencies.Count == 0 ? 0 : latencies[Math.Clamp((int)Math.Ceiling(p * latencies.Count) - 1, 0, latencies.Count - 1)];
        return new RetrievalReport(ks, byCategory, overall with { Queries = scored }, Percentile(0.5), Percentile(0.99), skipped);
    }

    private static string Line(EvalMemory memory) => memory.Speaker is { Length: > 0 } speaker ? $"{speaker}: {memory.Text}" : memory.Text;

    private static readonly JsonSerializerOptions JsonOptions = new() { RespectRequiredConstructorParameters = true, RespectNullableAnnotations = true };
}
