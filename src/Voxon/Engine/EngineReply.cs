namespace Voxon.Engine;

/// <summary>What the engine answered and how long it took.</summary>
internal readonly record struct EngineReply(string Text, double ResponseTimeMs, string? ModelId);
