using System.ComponentModel;
using Microsoft.Extensions.AI;
using Voxon.Sessions;

namespace Voxon.Turns;

/// <summary>
/// The built-in memory tools a model gets when functions are enabled: <c>remember</c>, <c>recall</c> and <c>forget</c>,
/// scoped to one session. Any engine that speaks M.E.AI functions (text turns, a realtime model, an agent) can offer them.
/// Sensitive memories come back from <c>recall</c> as <c>[REDACTED]</c>, so their content never reaches the model.
/// </summary>
public static class MemoryTools
{
    /// <summary>Name of the tool that stores a fact.</summary>
    public const string Remember = "remember";

    /// <summary>Name of the tool that searches memory.</summary>
    public const string Recall = "recall";

    /// <summary>Name of the tool that removes a memory by id.</summary>
    public const string Forget = "forget";

    /// <summary>The three tools, bound to <paramref name="session"/>.</summary>
    public static IReadOnlyList<AIFunction> For(Session session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return
        [
            AIFunctionFactory.Create(
                async ([Description("The fact to remember, as one short sentence about the user.")] string content,
                    [Description("A category such as preference, contact, schedule or general.")] string category = "general",
                    [Description("How important it is, from 0 to 1.")] double importance = 0.7,
                    CancellationToken cancellationToken = default) =>
                {
                    var entry = await session.AddMemoryAsync(content, category, importance, cancellationToken: cancellationToken);
                    return new { id = entry.Id, remembered = entry.Redacted().Content };
                },
                Remember,
                "Stores a fact about the user for later conversations."),
            AIFunctionFactory.Create(
                async ([Description("What to look for.")] string query,
                    [Description("Most memories to return, 1 to 20.")] int limit = 5,
                    CancellationToken cancellationToken = default) =>
                {
                    var found = await session.SearchMemoryAsync(query, Math.Clamp(limit, 1, 20), cancellationToken: cancellationToken);
                    return found.Select(r => r.Entry.Redacted()).Select(e => new { id = e.Id, content = e.Content, category = e.Category }).ToList();
                },
                Recall,
                "Searches what is remembered about the user; returns the most relevant memories with their ids."),
            AIFunctionFactory.Create(
                ([Description("The id of the memory to forget, as returned by recall.")] string id) =>
                    session.ForgetMemory(id) ? $"Forgot {id}." : $"No memory has id {id}.",
                Forget,
                "Removes a memory the user wants forgotten."),
        ];
    }
}
