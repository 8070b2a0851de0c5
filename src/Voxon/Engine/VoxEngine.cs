using System.Runtime.CompilerServices;
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
        var started = time.GetTimestamp();
        ChatResponse response;
        try
        {
            response = await ChatClient.GetResponseAsync(messages, OptionsFor(config), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw Failed(config, ex);
        }

        var elapsed = time.GetElapsedTime(started).TotalMilliseconds;
        var text = response.Text;
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new EngineException("The model returned an empty answer.", null);
        }

        return new EngineReply(text.Trim(), elapsed, response.ModelId);
    }

    /// <summary>The reply as the model streams it. A failure of the model surfaces as <see cref="EngineException"/>.</summary>
    public async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(SessionConfig config, string? context, IReadOnlyList<ConversationTurn> history, string userMessage, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var messages = BuildMessages(config, context, history, userMessage);
        IAsyncEnumerator<ChatResponseUpdate> updates;
        try
        {
            updates = ChatClient.GetStreamingResponseAsync(messages, OptionsFor(config), cancellationToken).GetAsyncEnumerator(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw Failed(config, ex);
        }

        await using (updates)
        {
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync())
                    {
                        yield break;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw Failed(config, ex);
                }

                yield return updates.Current;
            }
        }
    }

    private static ChatOptions OptionsFor(SessionConfig config) => new()
    {
        Temperature = (float)config.Temperature,
        MaxOutputTokens = config.MaxOutputTokens,
    };

    private EngineException Failed(SessionConfig config, Exception ex)
    {
        logger.LogError(ex, "The model call for session {SessionId} failed.", config.SessionId);
        return new EngineException($"The model did not answer: {ex.Message}", ex);
    }

    internal static List<ChatMessage> BuildMessages(SessionConfig config, string? context, IReadOnlyList<ConversationTurn> history, string userMessage)
    {
        var instructions = config.Language is null
            ? config.Instructions
            : $"{config.Instructions}\nReply in the language '{config.Language}'.";
        var messages = new List<ChatMessage>(history.Count + 3) { new(ChatRole.System, instructions) };
        if (!string.IsNullOrEmpty(context))
        {
            messages.Add(new ChatMessage(ChatRole.System, context));
        }

        foreach (var turn in history.Skip(Math.Max(0, history.Count - MaxHistoryMessages)))
        {
            if (turn.Content.Length == 0)
            {
                continue; // a reply interrupted before the user heard any of it
            }

            messages.Add(new ChatMessage(turn.Role == TurnRole.User ? ChatRole.User : ChatRole.Assistant, turn.Content));
        }

        messages.Add(new ChatMessage(ChatRole.User, userMessage));
        return messages;
    }
}
