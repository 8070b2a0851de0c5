using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using Voxon.Conversations;

namespace Voxon.Turns;

/// <summary>Pairs the function calls and results in a reply's updates into <see cref="ToolCall"/>s for the transcript.</summary>
/// <param name="offered">The tools the model was offered: a call to any other failed (the model was told it does not exist).</param>
internal sealed class ToolCallLog(IEnumerable<AITool> offered)
{
    private readonly HashSet<string> _offered = [.. offered.Select(t => t.Name)];
    private readonly Lock _lock = new();
    private readonly List<FunctionCallContent> _calls = [];
    private readonly Dictionary<string, FunctionResultContent> _results = new(StringComparer.Ordinal);

    // Arguments as a streamed reply sent them, by call id; the call index of the reply's current round leads to its id.
    private readonly Dictionary<string, StringBuilder> _streamedArguments = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _streamedCallIds = [];

    public void Observe(ChatResponseUpdate update)
    {
        if (update.RawRepresentation is StreamingChatCompletionUpdate { ToolCallUpdates.Count: > 0 } raw)
        {
            lock (_lock)
            {
                foreach (var part in raw.ToolCallUpdates)
                {
                    if (part.ToolCallId is { } id)
                    {
                        _streamedCallIds[part.Index] = id;
                        _streamedArguments[id] = new StringBuilder();
                    }

                    if (part.FunctionArgumentsUpdate is { } text && _streamedCallIds.TryGetValue(part.Index, out var callId))
                    {
                        _streamedArguments[callId].Append(text.ToString());
                    }
                }
            }
        }

        foreach (var content in update.Contents)
        {
            Observe(content);
        }
    }

    /// <summary>Notes a function call or result (from the reply's updates, or from the tool loop as it runs); other content is ignored.</summary>
    public void Observe(AIContent content)
    {
        lock (_lock)
        {
            switch (content)
            {
                // The tool loop reports a call as it starts, and the reply's updates carry the same instance again.
                case FunctionCallContent call when !_calls.Contains(call):
                    _calls.Add(call);
                    break;
                case FunctionResultContent result:
                    _results[result.CallId] = result;
                    break;
            }
        }
    }

    /// <summary>Whether a call got no result (the tool loop stopped before running it).</summary>
    public bool Unanswered
    {
        get
        {
            lock (_lock)
            {
                return _calls.Any(call => !_results.ContainsKey(call.CallId));
            }
        }
    }

    /// <summary>The calls in the order the model made them, each with its result: null when none came back (the reply
    /// was cut off first), and then the call counts as failed.</summary>
    public IReadOnlyList<ToolCall> Calls
    {
        get
        {
            lock (_lock)
            {
                return [.. _calls.Select(call =>
                {
                    var result = _results.GetValueOrDefault(call.CallId);
                    return new ToolCall(
                        call.Name,
                        call.Exception is not null ? SentArguments(call)
                            : call.Arguments is null ? null : JsonSerializer.Serialize(call.Arguments, AIJsonUtilities.DefaultOptions),
                        result?.Result is null ? null : result.Result as string ?? JsonSerializer.Serialize(result.Result, AIJsonUtilities.DefaultOptions),
                        result is null || result.Exception is not null || !_offered.Contains(call.Name));
                })];
            }
        }
    }

    /// <summary>The arguments of a call whose arguments could not be parsed, as the model sent them: the OpenAI client keeps
    /// that text only in its raw representation (whole, on the call; streamed, in pieces across the updates). Null
    /// from other clients. Caller holds the lock.</summary>
    private string? SentArguments(FunctionCallContent call) => call.RawRepresentation is ChatToolCall { FunctionArguments: { } whole }
        ? whole.ToString()
        : _streamedArguments.GetValueOrDefault(call.CallId)?.ToString();
}
