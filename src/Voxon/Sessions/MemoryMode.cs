using System.Text.Json.Serialization;

namespace Voxon.Sessions;

/// <summary>How long memories live (ARCHITECTURE.md, "Memory").</summary>
public enum MemoryMode
{
    /// <summary>Memories live only for the conversation that made them; nothing of memory is written to storage.</summary>
    [JsonStringEnumMemberName("ephemeral")]
    Ephemeral,

    /// <summary>Every memory persists until cleared, expired or evicted.</summary>
    [JsonStringEnumMemberName("persistent")]
    Persistent,

    /// <summary>Explicit memories and extracted ones at or above <see cref="SessionConfig.HybridPersistThreshold"/> persist;
    /// the rest end with their conversation. The default.</summary>
    [JsonStringEnumMemberName("hybrid")]
    Hybrid,
}
