using System.Text.Json.Serialization;

namespace Voxon.Diagnostics;

/// <summary>What debug mode recorded (the spec's <c>get_debug_info()</c>). Histories are bounded: the oldest items
/// give way to new ones and are counted in <see cref="DroppedCount"/>.</summary>
public sealed record SessionDebugInfo
{
    /// <summary>Whether debug mode is on.</summary>
    [JsonPropertyName("enabled")]
    public bool Enabled { get; init; }

    /// <summary>Memory after each change (and after each turn), oldest first.</summary>
    [JsonPropertyName("memory_snapshots")]
    public IReadOnlyList<MemorySnapshot> MemorySnapshots { get; init; } = [];

    /// <summary>Events, oldest first.</summary>
    [JsonPropertyName("events")]
    public IReadOnlyList<DebugEvent> Events { get; init; } = [];

    /// <summary>State changes of the session, its conversations and debug mode, oldest first.</summary>
    [JsonPropertyName("state_transitions")]
    public IReadOnlyList<StateTransition> StateTransitions { get; init; } = [];

    /// <summary>Failures in the session's lifetime: <c>error</c> events plus event handlers that threw.</summary>
    [JsonPropertyName("error_count")]
    public int ErrorCount { get; init; }

    /// <summary>History items discarded because a buffer was full.</summary>
    [JsonPropertyName("dropped_count")]
    public long DroppedCount { get; init; }
}
