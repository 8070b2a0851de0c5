namespace Voxon.Storage;

/// <summary>How many records a stored session has: written in the session's head by every save, so that a load
/// notices records that went missing (a deleted row, field or journal frame) instead of returning less. With
/// encryption the head is authenticated, so the counts cannot be changed to match.</summary>
public sealed class RecordCounts
{
    /// <summary>Memory entries (live and history).</summary>
    public int Memories { get; set; }

    /// <summary>Conversations.</summary>
    public int Conversations { get; set; }

    /// <summary>Turns of all conversations.</summary>
    public int Turns { get; set; }

    /// <summary>The counts of what <paramref name="document"/> holds.</summary>
    public static RecordCounts Of(SessionDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return new RecordCounts
        {
            Memories = document.Memory.Entries.Count,
            Conversations = document.Conversations.Count,
            Turns = document.Conversations.Sum(c => c.Turns.Count),
        };
    }

    /// <summary>What differs between these counts and <paramref name="document"/>'s records; null when they match.</summary>
    /// <param name="document">The assembled session.</param>
    /// <param name="withContent">False for a metadata-only document: only conversations are counted.</param>
    internal string? Mismatch(SessionDocument document, bool withContent)
    {
        var actual = Of(document);
        var problems = new List<string>();
        if (actual.Conversations != Conversations)
        {
            problems.Add($"{actual.Conversations} of {Conversations} conversations");
        }

        if (withContent && actual.Memories != Memories)
        {
            problems.Add($"{actual.Memories} of {Memories} memory entries");
        }

        if (withContent && actual.Turns != Turns)
        {
            problems.Add($"{actual.Turns} of {Turns} turns");
        }

        return problems.Count == 0 ? null : "records are missing or extra: found " + string.Join(", ", problems);
    }
}
