namespace Voxon.Conversations;

/// <summary>How much of its token budget the context woven for a turn used.</summary>
/// <param name="Tokens">Tokens of the rendered context.</param>
/// <param name="Budget">The session's context token budget at the time.</param>
public sealed record ContextUsage(int Tokens, int Budget);
