namespace Voxon.Conversations;

/// <summary>A function the model called during a reply, with what it returned.</summary>
/// <param name="Name">The function's name.</param>
/// <param name="Arguments">The arguments as the model sent them (JSON).</param>
/// <param name="Result">What the function returned (JSON), or the error the model was told.</param>
/// <param name="Failed">Whether the call failed (the function threw, the arguments did not bind, or no function has that name),
/// or was cut off with the reply before it returned (no <paramref name="Result"/>).</param>
public sealed record ToolCall(string Name, string? Arguments, string? Result, bool Failed);
