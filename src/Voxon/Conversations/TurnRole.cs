using System.Text.Json.Serialization;

namespace Voxon.Conversations;

/// <summary>Who spoke a turn.</summary>
public enum TurnRole
{
    /// <summary>The user.</summary>
    [JsonStringEnumMemberName("user")]
    User,

    /// <summary>The assistant.</summary>
    [JsonStringEnumMemberName("assistant")]
    Assistant,
}
