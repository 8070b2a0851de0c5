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

/// <summary>Recall at each k, per category and overall, and search latency.</summary>
public sealed record RetrievalReport(
    IReadOnlyList<int> Ks,
    IReadOnlyDictionary<int, (int Queries, double[] Recall)> ByCategory,
    int Queries,
    double[] Recall,
    double LatencyP50Ms,
    double LatencyP99Ms,
    int SkippedQueries);

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
    public static async Task<RetrievalReport> RunAsync(IReadOnlyList<EvalMemory> memories, IReadOnlyList<EvalQuery> queries, IReadOnlyList<int> ks, CancellationToken cancellationToken = default)
    {
        var folder = Path.Combine(Path.GetTempPath(), "voxon-eval-" + Guid.NewGuid().ToString("N")[..8]);
        await using var voxon = new VoxonClient(new VoxonOptions { Storage = new FileSessionStorage(folder), UseEnvironment = false });
        var maxK = ks.Max();
        var sessions = new Dictionary<string, (Session Session, Dictionary<string, List<string>> DiaIds)>(StringComparer.Ordinal);
        foreach (var group in memories.GroupBy(m => m.Conv))
        {
            var session = await voxon.CreateSessionAsync("eval", new SessionConfig { MaxMemorySize = int.MaxValue / 2, MemoryMode = MemoryMode.Persistent }, cancellationToken);
            var ids = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var memory in group)
            {
                var content = memory.Speaker is { Length: > 0 } speaker ? $"{speaker}: {memory.Text}" : memory.Text;
                var entry = await session.AddMemoryAsync(content, "dialogue", cancellationToken: cancellationToken);
                ids.TryAdd(entry.Id, []);
                ids[entry.Id].Add(memory.DiaId);
            }

            sessions[group.Key] = (session, ids);
        }

        var byCategory = new Dictionary<int, (int Queries, double[] Recall)>();
        var overall = new double[ks.Count];
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
                bucket = (0, new double[ks.Count]);
            }

            for (var i = 0; i < ks.Count; i++)
            {
                var found = ranked.Take(ks[i]).SelectMany(d => d).Where(evidence.Contains).Distinct(StringComparer.Ordinal).Count();
                var recall = (double)found / evidence.Count;
                bucket.Recall[i] += recall;
                overall[i] += recall;
            }

            byCategory[query.Category] = (bucket.Queries + 1, bucket.Recall);
            scored++;
        }

        foreach (var (_, bucket) in byCategory)
        {
            for (var i = 0; i < ks.Count; i++)
            {
                bucket.Recall[i] /= bucket.Queries;
            }
        }

        for (var i = 0; i < ks.Count; i++)
        {
            overall[i] = scored == 0 ? 0 : overall[i] / scored;
        }

        latencies.Sort();
        double Percentile(double p) => latencies.Count == 0 ? 0 : latencies[Math.Clamp((int)Math.Ceiling(p * latencies.Count) - 1, 0, latencies.Count - 1)];
        return new RetrievalReport(ks, byCategory, scored, overall, Percentile(0.5), Percentile(0.99), skipped);
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { RespectRequiredConstructorParameters = true, RespectNullableAnnotations = true };
}
