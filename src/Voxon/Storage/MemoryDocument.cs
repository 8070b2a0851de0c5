using Voxon.Memory;

namespace Voxon.Storage;

/// <summary>The <c>memory</c> part of a stored session.</summary>
public sealed class MemoryDocument
{
    /// <summary>Entries, live and superseded (history).</summary>
    public List<MemoryEntry> Entries { get; set; } = [];

    /// <summary>Tokens of the live entries.</summary>
    public int TokenCount { get; set; }

    /// <summary>The session's max_memory_size.</summary>
    public int MaxTokens { get; set; }

    /// <summary>Ids of entries given a new embedding when loaded (another model), so the next save stores them; never persisted.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    internal IReadOnlyCollection<string> ReembeddedIds { get; set; } = [];

    /// <summary>A shallow copy without the entries.</summary>
    internal MemoryDocument WithoutEntries()
    {
        var copy = (MemoryDocument)MemberwiseClone();
        copy.Entries = [];
        return copy;
    }
}
