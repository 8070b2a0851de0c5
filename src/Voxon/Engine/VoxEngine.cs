using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Voxon.Conversations;
using Voxon.Sessions;

namespace Voxon.Engine;

/// <summary>
/// Talks to the model: builds the prompt from the session's instructions, the woven context and the
/// conversation history, applies the session's sampling settings, and times the call.
/// Knows nothing of sessions' storage.
/// </summary>
internal sealed class VoxEngine(IChatClient chatClient, TimeProvider time, ILogger logger)
{
    /// <summary>Most history messages sent with a turn; older turns reach the model through memory.</summary>
    internal const int MaxHistoryMessages = 40;

    public IChatClient ChatClient { get; } = chatClient;

    public async Task<EngineReply> RespondAsync(SessionConfig config, string? context, IReadOnlyList<ConversationTurn> history, string userMessage, CancellationToken cancellationToken)
    {
        var messages = BuildMessages(config, context, history, userMessage);
        var options = new ChatOptions
        {
            Temperature = (float)config.Temperature,
            MaxOutputTokens = config.MaxOutputTokens,
        };

        var started = time.GetTimestamp();
        ChatResponse response;
        try
        {
            response = await ChatClient.GetResponseAsync(messages, options, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "The model call for session {SessionId} failed.", config.SessionId);
            throw new EngineException($"The model did not answer: {ex.Message}", ex);
        }

        var elapsed = time.GetElapsedTime(started).TotalMilliseconds;
        var text = response.Text;
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new EngineException("The model returned an empty answer.", null);
        }

        return new EngineReply(text.Trim(), elapsed, response.ModelId);
    }

    internal static List<ChatMessage> BuildMessages(SessionConfig config, string? context, IReadOnlyList<ConversationTurn> history, string userMessage)
    {
        var messages = new List<ChatMessage>(history.Count + 3) { new(ChatRole.System, Instructions(config)) };
        if (!string.IsNullOrEmpty(context))
        {
            messages.Add(new ChatMessage(ChatRole.System, context));
        }

        foreach (var turn in history.Skip(Math.Max(0, history.Count - MaxHistoryMessages)))
        {
            messages.Add(new ChatMessage(turn.Role == TurnRole.User ? ChatRole.User : ChatRole.Assistant, turn.Content));
        }

        messages.Add(new ChatMessage(ChatRole.User, userMessage));
        return messages;
    }

    /// <summary>The session's instructions for the model, with the reply language when one is set.</summary>
    internal static string Instructions(SessionConfig config) => config.Language is null
        ? config.Instructions
        : $"{config.Instructions}\nReply in the language '{config.Language}'.";
}
