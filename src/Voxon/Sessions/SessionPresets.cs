namespace Voxon.Sessions;

/// <summary>
/// Ready-made configurations from the spec. Each property returns a new <see cref="SessionConfig"/>
/// (with a new session id), so changing one never changes the next.
/// </summary>
public static class SessionPresets
{
    /// <summary>Conversation-focused: natural temperature (0.8), persistent memory, learning enabled.</summary>
    public static SessionConfig Conversation => new()
    {
        Instructions = "You are a warm, natural conversation partner. Remember what the user tells you and build on it.",
        Temperature = 0.8,
        MemoryMode = MemoryMode.Persistent,
        EnableLearning = true,
    };

    /// <summary>Task-focused: lower temperature (0.3), ephemeral memory, function calling enabled.</summary>
    public static SessionConfig TaskOriented => new()
    {
        Instructions = "You are a precise assistant that helps the user complete tasks. Be brief and confirm actions.",
        Temperature = 0.3,
        MemoryMode = MemoryMode.Ephemeral,
        EnableFunctions = true,
    };

    /// <summary>Educational: balanced temperature (0.5), hybrid memory, adaptation enabled.</summary>
    public static SessionConfig Educational => new()
    {
        Instructions = "You are a patient tutor. Explain step by step and adapt to the learner's level.",
        Temperature = 0.5,
        MemoryMode = MemoryMode.Hybrid,
        EnableAdaptation = true,
        EnableLearning = true,
    };

    /// <summary>Customer support: professional tone, persistent memory, analytics enabled.</summary>
    public static SessionConfig CustomerSupport => new()
    {
        Instructions = "You are a professional, courteous customer support agent. Be accurate, polite and concise.",
        Temperature = 0.6,
        MemoryMode = MemoryMode.Persistent,
        EnableAnalytics = true,
    };
}
