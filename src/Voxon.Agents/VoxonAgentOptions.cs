using Voxon.Sessions;

namespace Voxon.Agents;

/// <summary>How an agent's sessions map onto Voxon: every <c>AgentSession</c> of the agent is one Voxon conversation in
/// the user's Voxon session, so what the user said in one agent session is remembered in the next.</summary>
public sealed class VoxonAgentOptions
{
    /// <summary>The Voxon session to use. Default null: the user's most recently updated session, or a new one
    /// (created with <see cref="SessionConfig"/> and saved at once) when the user has none.</summary>
    public string? SessionId { get; set; }

    /// <summary>Configuration of a session created for the user. Default null: Voxon's default configuration.</summary>
    public SessionConfig? SessionConfig { get; set; }

    /// <summary>Key of the Voxon session and conversation ids in <c>AgentSession.StateBag</c>. Default <c>"voxon"</c>;
    /// change it only to give two Voxon providers of one agent separate state.</summary>
    public string StateKey { get; set; } = "voxon";
}
