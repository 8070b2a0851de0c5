namespace Voxon.Memory.Search;

/// <summary>
/// What the search index holds for a memory besides its displayed content: the dialogue context next to it, and
/// the dates its relative expressions resolve to ("yesterday" said on 8 May 2023 is indexed as "7 May 2023").
/// </summary>
internal static class MemoryIndexText
{
    /// <summary>The text to embed for a memory: its context, then its content (the context is what the content answers).</summary>
    public static string ForEmbedding(string content, string? context) =>
        string.IsNullOrWhiteSpace(context) ? content : context + "\n" + content;

    /// <inheritdoc cref="ForEmbedding(string, string?)"/>
    public static string ForEmbedding(MemoryEntry entry) => ForEmbedding(entry.Content, entry.Context);

    /// <summary>The lexical text and the days of <paramref name="entry"/>.</summary>
    public static (string Text, IndexedTime Time) For(MemoryEntry entry)
    {
        var spans = TemporalExpressions.Resolve(entry.Content, entry.OccurredAt);
        var text = ForEmbedding(entry);
        var day = DateOnly.FromDateTime(entry.OccurredAt.DateTime);
        if (spans.Count == 0)
        {
            return (text, new IndexedTime(day, day, Stated: false));
        }

        var labels = string.Join("\n", spans.Select(s => s.Label));
        return (text + "\n" + labels, new IndexedTime(spans.Min(s => s.Start), spans.Max(s => s.End), Stated: true));
    }
}
