using System.Text.Json.Serialization;

namespace Voxon.Agents;

/// <summary>What an <c>AgentSession</c> remembers of Voxon: which session and conversation it continues. It travels in
/// the session's StateBag, so a serialized agent session resumes the same Voxon conversation; the history itself stays
/// in Voxon's storage.</summary>
internal sealed class VoxonAgentState
{
    public string? SessionId { get; set; }

    public string? ConversationId { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(VoxonAgentState))]
internal sealed partial class VoxonAgentsJsonContext : JsonSerializerContext;
