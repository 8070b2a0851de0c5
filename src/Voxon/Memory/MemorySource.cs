using System.Text.Json.Serialization;

namespace Voxon.Memory;

/// <summary>Where a memory came from.</summary>
public enum MemorySource
{
    /// <summary>Added by the application through <see cref="Sessions.Session.AddMemory"/>.</summary>
    [JsonStringEnumMemberName("explicit")]
    Explicit,

    /// <summary>Extracted from what the user said.</summary>
    [JsonStringEnumMemberName("extracted")]
    Extracted,

    /// <summary>A summary that replaced older entries (compression).</summary>
    [JsonStringEnumMemberName("summary")]
    Summary,

    /// <summary>A note added through a shared view.</summary>
    [JsonStringEnumMemberName("note")]
    Note,
}
