using System.Text.Json;
using Microsoft.Extensions.AI;
using Voxon.Conversations;

namespace Voxon.Turns;

/// <summary>Pairs the function calls and results in a reply's updates into <see cref="ToolCall"/>s for the transcript.</summary>
/// <param name="offered">The tools the model was offered: a call to any other failed (the model was told it does not exist).</param>
internal sealed class ToolCallLog(IEnumerable<AITool> offered)
{
    private readonly HashSet<string> _offered = [.. offered.Select(t => t.Name)];
    private readonly List<FunctionCallContent> _calls = [];
    private readonly Dictionary<string, FunctionResultContent> _results = new(StringComparer.Ordinal);

    public void Observe(ChatResponseUpdate update)
    {
        foreach (var content in update.Contents)
        {
            switch (content)
            {
                case FunctionCallContent call:
                    _calls.Add(call);
                    break;
                case FunctionResultContent result:
                    _results[result.CallId] = result;
                    break;
            }
        }
    }

    /// <summary>Whether a call got no result (the tool loop stopped before running it).</summary>
    public bool Unanswered => _calls.Any(call => !_results.ContainsKey(call.CallId));

    /// <summary>The calls in the order the model made them, each with its result (null when none came back).</summary>
    public IReadOnlyList<ToolCall> Calls => [.. _calls.Select(call =>
    {
        var result = _results.GetValueOrDefault(call.CallId);
        return new ToolCall(
            call.Name,
            call.Arguments is null ? null : JsonSerializer.Serialize(call.Arguments, AIJsonUtilities.DefaultOptions),
            result?.Result is null ? null : result.Result as string ?? JsonSerializer.Serialize(result.Result, AIJsonUtilities.DefaultOptions),
            result?.Exception is not null || !_offered.Contains(call.Name));
    })];
}
