using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Voxon.Server.Api;
using Voxon.Server.Hosting;

namespace Voxon.Server.Mcp;

/// <summary>The MCP tools: search, add and forget memories of one session, and summarise it. Each call is confined to
/// the scope's session (<see cref="IMcpSessionScope"/>); library errors come back as tool errors with their message.</summary>
[McpServerToolType]
internal sealed class MemoryTools(IMcpSessionScope scope, ILogger<MemoryTools> logger)
{
    private static readonly JsonSerializerOptions Json = VoxonServer.Configure(new JsonSerializerOptions());

    private const string SessionIdHelp = "The session (over HTTP: a session of your tenant; over stdio: optional, fixed at start).";

    [McpServerTool(Name = "memory_search", ReadOnly = true), Description("Searches the session's memory (hybrid lexical and semantic); returns the best matches with scores.")]
    public Task<CallToolResult> SearchAsync(
        [Description("What to look for.")] string query,
        [Description("How many results, 1 to 50.")] int top_k = 5,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(session_id, save: false, async session =>
        {
            if (string.IsNullOrWhiteSpace(query))
            {
                throw new ArgumentException("query must not be empty: say what to look for.");
            }

            if (top_k is < 1 or > 50)
            {
                throw new ArgumentException("top_k must be between 1 and 50.");
            }

            var hits = await session.SearchMemoryAsync(query, top_k, cancellationToken: cancellationToken);
            return hits.Select(h => new { id = h.Entry.Id, content = h.Entry.Redacted().Content, category = h.Entry.Category, score = Math.Round(h.Score, 4) });
        }, cancellationToken);

    [McpServerTool(Name = "memory_add"), Description("Adds a memory to the session; it is searchable at once and stored.")]
    public Task<CallToolResult> AddAsync(
        [Description("What to remember, as a short statement.")] string content,
        [Description("Category, e.g. preference, identity, scheduling.")] string category = "general",
        [Description("Importance from 0 to 1.")] double importance = 0.5,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(session_id, save: true, async session => ApiViews.Memory(await session.AddMemoryAsync(
            string.IsNullOrWhiteSpace(content) ? throw new ArgumentException("content must not be empty: say what to remember.") : content,
            category, importance, cancellationToken: cancellationToken)), cancellationToken);

    [McpServerTool(Name = "memory_forget", Destructive = true), Description("Forgets one memory of the session by its id.")]
    public Task<CallToolResult> ForgetAsync(
        [Description("The memory's id (from memory_search).")] string memory_id,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(session_id, save: true, session => Task.FromResult(session.ForgetMemory(memory_id)
            ? new { forgotten = memory_id }
            : throw new KeyNotFoundException($"The session has no memory '{memory_id}'.")), cancellationToken);

    [McpServerTool(Name = "session_summary", ReadOnly = true), Description("Summarises the session: conversations, messages, topics, satisfaction and its most important memories.")]
    public Task<CallToolResult> SummaryAsync(
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(session_id, save: false, async session =>
        {
            var analytics = await session.GetAnalyticsAsync(cancellationToken);
            var memory = session.GetMemory();
            return new
            {
                session_id = session.SessionId,
                conversations = analytics.ConversationCount,
                messages = analytics.MessageCount,
                topics = analytics.Topics,
                satisfaction = analytics.SatisfactionSource == "none" ? (double?)null : analytics.SatisfactionScore,
                memory_count = memory.Entries.Count,
                top_memories = memory.Entries.OrderByDescending(e => e.Importance).Take(10).Select(e => e.Redacted().Content),
            };
        }, cancellationToken);

    private async Task<CallToolResult> RunAsync<T>(string? sessionId, bool save, Func<Sessions.Session, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            return Result(JsonSerializer.Serialize(await scope.RunAsync(sessionId, save, work, cancellationToken), Json));
        }
        catch (McpException ex)
        {
            return Result(ex.Message, error: true);
        }
        catch (Exception ex) when (ex is VoxonException or ArgumentException or KeyNotFoundException)
        {
            // Answered here as the tool's error, not thrown: the SDK logs a thrown one as a failure with its stack trace,
            // which bad input from a model is not. The REST API's wording is used: a library message names nothing of
            // another tenant (its sessions are "not found"), while a storage failure's message names the server's
            // paths or hosts, so that one is logged and the model is told only that storage failed.
            var (status, _, detail) = ProblemExceptionHandler.Describe(ex);
            if (status >= 500)
            {
                logger.LogError(ex, "MCP tool call failed.");
            }

            return Result(detail ?? ex.Message, error: true);
        }
    }

    private static CallToolResult Result(string text, bool error = false) => new() { Content = [new TextContentBlock { Text = text }], IsError = error ? true : null };
}
