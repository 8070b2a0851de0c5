using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Voxon.Engine;

namespace Voxon.Memory;

/// <summary>
/// Merges a group of memories of one category into one summary sentence: with the model when one is
/// configured (JSON output, validated), otherwise, or when the model's output is unusable, by a
/// deterministic merge that factors out the shared beginning ("User is interested in X, Y and Z").
/// Sensitive memories never reach the model: a group holding any is merged offline.
/// </summary>
internal sealed class MemoryCompressor(IChatClient chatClient, ILogger logger)
{
    private const string Instructions =
        "You merge memories about a user into one concise factual summary. Keep every distinct fact, names and numbers exactly; " +
        "drop repetition. Answer only with JSON: {\"summary\": \"...\"}.";

    /// <summary>The groups a compression merges: live memories last updated before <paramref name="cutoff"/>, by category,
    /// scope, sensitivity and expiry, two or more to a group. Single-valued facts (slots), importance-1.0 entries and memories
    /// that end with their conversation are left as they are.</summary>
    /// <remarks>By expiry too: a summary has one expiry, and a fact merged with longer-lived ones must not outlive its own
    /// (nor shorten theirs).</remarks>
    public static List<List<MemoryEntry>> Groups(IEnumerable<MemoryEntry> live, DateTimeOffset cutoff) =>
        [.. live
            .Where(e => e.UpdatedAt < cutoff && e.Slot is null && e.Importance < 1.0 && !e.Transient)
            .GroupBy(e => (e.Category, e.Scope, e.Sensitive, e.ExpiresAt))
            .Where(g => g.Count() > 1)
            .Select(g => g.ToList())];

    /// <summary>The summary entry that replaces <paramref name="sources"/> (one group of <see cref="Groups"/>).</summary>
    public static MemoryEntry SummaryOf(IReadOnlyList<MemoryEntry> sources, string text, DateTimeOffset now, float[] embedding, string? embeddingModel)
    {
        var first = sources[0];
        return new MemoryEntry
        {
            Id = Storage.SessionIds.NewId("mem_"),
            Content = text,
            Category = first.Category,
            Importance = sources.Max(s => s.Importance),
            CreatedAt = sources.Min(s => s.CreatedAt),
            UpdatedAt = now,
            ExpiresAt = first.ExpiresAt, // the group shares one expiry, as it shares one sensitivity
            Sensitive = first.Sensitive,
            Source = MemorySource.Summary,
            Scope = first.Scope,
            TokenCount = TokenCounter.Count(text),
            OccurredAt = sources.Min(s => s.OccurredAt),
            Embedding = embedding,
            EmbeddingModel = embeddingModel,
        };
    }

    /// <summary>One summary of <paramref name="group"/>, memories of one category (and one sensitivity: the session
    /// compresses sensitive and other memories apart, so a summary is sensitive only when its facts are).</summary>
    public async Task<string> SummarizeAsync(IReadOnlyList<MemoryEntry> group, CancellationToken cancellationToken)
    {
        var contents = group.Select(e => e.Content).ToList();
        var merged = Merge(contents);
        if (OfflineChatClient.IsOffline(chatClient) || group.Any(e => e.Sensitive))
        {
            return merged;
        }

        var category = group[0].Category;

        try
        {
            var prompt = $"Category: {category}\nMemories:\n" + string.Join('\n', contents.Select(c => "- " + c));
            var response = await chatClient.GetResponseAsync(
                [new ChatMessage(ChatRole.System, Instructions), new ChatMessage(ChatRole.User, prompt)],
                new ChatOptions { Temperature = 0, ResponseFormat = ChatResponseFormat.Json },
                cancellationToken);
            var summary = ParseSummary(response.Text);
            if (summary is not null && summary.Length <= merged.Length * 2)
            {
                return summary;
            }

            logger.LogWarning("The model's memory summary was unusable; using the offline merge.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "The model could not summarise memories; using the offline merge.");
        }

        return merged;
    }

    internal static string? ParseSummary(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("summary", out var value)
                && value.ValueKind == JsonValueKind.String
                && !string.IsNullOrWhiteSpace(value.GetString())
                ? value.GetString()!.Trim()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Deterministic merge: facts that start alike ("User is interested in ...") share one beginning.</summary>
    internal static string Merge(IReadOnlyList<string> contents)
    {
        var groups = new List<(string Lead, List<string> Tails)>();
        foreach (var content in contents.Select(c => c.Trim().TrimEnd('.')).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var (lead, tail) = Split(content);
            var group = groups.FindIndex(g => string.Equals(g.Lead, lead, StringComparison.OrdinalIgnoreCase));
            if (group < 0)
            {
                groups.Add((lead, [tail]));
            }
            else
            {
                groups[group].Tails.Add(tail);
            }
        }

        return string.Join("; ", groups.Select(g => g.Lead.Length == 0 ? Join(g.Tails) : $"{g.Lead} {Join(g.Tails)}")) + ".";
    }

    /// <summary>The first words that state the relation (up to the last preposition or verb among them), and the rest.</summary>
    private static (string Lead, string Tail) Split(string content)
    {
        var words = content.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        for (var i = Math.Min(words.Length - 2, 5); i >= 1; i--)
        {
            if (LeadEnders.Contains(words[i]))
            {
                return (string.Join(' ', words[..(i + 1)]), string.Join(' ', words[(i + 1)..]));
            }
        }

        return (string.Empty, content);
    }

    private static readonly HashSet<string> LeadEnders = new(StringComparer.OrdinalIgnoreCase)
    {
        "in", "at", "as", "for", "about", "to", "of", "on", "with", "likes", "prefers", "dislikes", "remember:", "feels", "is",
    };

    private static string Join(List<string> items) => items.Count == 1
        ? items[0]
        : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1];
}
