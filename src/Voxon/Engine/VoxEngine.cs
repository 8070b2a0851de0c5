using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Voxon.Conversations;
using Voxon.Sessions;

namespace Voxon.Engine;

/// <summary>
/// Talks to the model: builds the prompt from the session's instructions, the woven context and the
/// conversation history, applies the session's sampling settings, and runs the tool loop when functions are offered.
/// Knows nothing of sessions' storage.
/// </summary>
internal sealed class VoxEngine(IChatClient chatClient, ILogger logger)
{
    /// <summary>Most history messages sent with a turn; older turns reach the model through memory.</summary>
    internal const int MaxHistoryMessages = 40;

    public IChatClient ChatClient { get; } = chatClient;

    /// <summary>Most rounds of function calls in one turn; past them the turn stops with the last calls unanswered.</summary>
    public int MaxToolRounds => ToolLoop.MaxRounds;

    /// <summary>The whole reply. With tools, the model's function calls are invoked (a failing one reports its error to the
    /// model) and the response's messages carry the calls and results; <paramref name="observe"/> gets each call as it
    /// starts and each result as it comes, so the calls of a reply cut off before it completes are still known.
    /// A failure of the model surfaces as <see cref="EngineException"/>.</summary>
    public async Task<ChatResponse> RespondAsync(SessionConfig config, string? context, IReadOnlyList<ConversationTurn> history, string userMessage, IList<AITool> tools, Action<AIContent>? observe, CancellationToken cancellationToken)
    {
        var messages = BuildMessages(config, context, history, userMessage);
        try
        {
            return await ClientFor(tools, observe).GetResponseAsync(messages, OptionsFor(config, tools), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw Failed(config, ex);
        }
    }

    /// <summary>The reply as the model streams it; <paramref name="observe"/> as for <see cref="RespondAsync"/>.
    /// A failure of the model surfaces as <see cref="EngineException"/>.</summary>
    public async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(SessionConfig config, string? context, IReadOnlyList<ConversationTurn> history, string userMessage, IList<AITool> tools, Action<AIContent>? observe, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var messages = BuildMessages(config, context, history, userMessage);
        IAsyncEnumerator<ChatResponseUpdate> updates;
        try
        {
            updates = ClientFor(tools, observe).GetStreamingResponseAsync(messages, OptionsFor(config, tools), cancellationToken).GetAsyncEnumerator(cancellationToken);
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

    private static ChatOptions OptionsFor(SessionConfig config, IList<AITool> tools) => new()
    {
        Temperature = (float)config.Temperature,
        MaxOutputTokens = config.MaxOutputTokens,
        Tools = tools.Count == 0 ? null : tools,
    };

    /// <summary>M.E.AI's tool loop when there are tools: it invokes the calls and sends the results (or errors) back.</summary>
    private IChatClient ClientFor(IList<AITool> tools, Action<AIContent>? observe) => tools.Count == 0 ? ChatClient : new ToolLoop(ChatClient, observe);

    /// <summary>The tool loop of one reply, telling <c>observe</c> of each call as it starts and of each round's results:
    /// a whole reply's response, and a streamed reply's results, exist only once the loop ends, which an interruption
    /// while a function runs prevents.</summary>
    private sealed class ToolLoop : FunctionInvokingChatClient
    {
        /// <summary>Most rounds of function calls in one reply (M.E.AI's default).</summary>
        public const int MaxRounds = 40;

        /// <summary>Rounds in a row with a failing call that stop the reply; the model is told of the errors before (M.E.AI's default).</summary>
        public const int MaxFailingRounds = 4;

        private readonly Action<AIContent>? _observe;

        public ToolLoop(IChatClient inner, Action<AIContent>? observe)
            : base(inner)
        {
            _observe = observe;
            IncludeDetailedErrors = true;
            MaximumIterationsPerRequest = MaxRounds;
            MaximumConsecutiveErrorsPerRequest = MaxFailingRounds - 1;
        }

        protected override async ValueTask<object?> InvokeFunctionAsync(FunctionInvocationContext context, CancellationToken cancellationToken)
        {
            _observe?.Invoke(context.CallContent);
            try
            {
                // Arguments the client could not parse arrive as none: the model would hear of a missing parameter, not of
                // the JSON it has to send again.
                if (context.CallContent.Exception is { } unreadable)
                {
                    throw new FormatException(
                        $"The arguments were not valid JSON ({(unreadable.InnerException ?? unreadable).Message}); call '{context.Function.Name}' again with its arguments as one JSON object.",
                        unreadable);
                }

                return await base.InvokeFunctionAsync(context, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // The loop rethrows the error of the round past MaxFailingRounds: named, the turn can say which function it was.
                throw new FunctionFailedException(context.Function.Name, ex);
            }
        }

        protected override IList<ChatMessage> CreateResponseMessages(ReadOnlySpan<FunctionInvocationResult> results)
        {
            var messages = base.CreateResponseMessages(results);
            if (_observe is { } observe)
            {
                // Calls not invoked (to a function that does not exist) are known by their results only.
                foreach (var result in results)
                {
                    observe(result.CallContent);
                }

                foreach (var content in messages.SelectMany(m => m.Contents))
                {
                    observe(content);
                }
            }

            return messages;
        }
    }

    /// <summary>A function's error, with the function's name; the message is the function's, as the model is told it.</summary>
    private sealed class FunctionFailedException(string function, Exception inner) : Exception(inner.Message, inner)
    {
        public string Function { get; } = function;
    }

    private EngineException Failed(SessionConfig config, Exception ex)
    {
        // Several calls of the last round may have failed: the first one names the error.
        if (ex is FunctionFailedException or AggregateException { InnerExceptions: [FunctionFailedException, ..] })
        {
            var function = ex as FunctionFailedException ?? (FunctionFailedException)((AggregateException)ex).InnerExceptions[0];
            logger.LogWarning(ex, "The function calls of session {SessionId} kept failing.", config.SessionId);
            return new EngineException(
                $"The model's function calls failed {ToolLoop.MaxFailingRounds} rounds in a row; the turn was stopped there. Last, '{function.Function}' failed: {function.Message}",
                function.InnerException);
        }

        logger.LogError(ex, "The model call for session {SessionId} failed.", config.SessionId);
        return new EngineException($"The model did not answer: {ex.Message}", ex);
    }

    internal static List<ChatMessage> BuildMessages(SessionConfig config, string? context, IReadOnlyList<ConversationTurn> history, string userMessage)
    {
        var messages = new List<ChatMessage>(Math.Min(history.Count, MaxHistoryMessages) + 3) { new(ChatRole.System, Instructions(config)) };
        if (!string.IsNullOrEmpty(context))
        {
            messages.Add(new ChatMessage(ChatRole.System, context));
        }

        messages.AddRange(HistoryMessages(history));
        messages.Add(new ChatMessage(ChatRole.User, userMessage));
        return messages;
    }

    /// <summary>The latest turns of <paramref name="history"/> as the model sees them: replies as heard, and a reply
    /// interrupted before the user heard any of it left out.</summary>
    internal static IEnumerable<ChatMessage> HistoryMessages(IReadOnlyList<ConversationTurn> history) =>
        history.Skip(Math.Max(0, history.Count - MaxHistoryMessages))
            .Where(turn => turn.Content.Length > 0)
            .Select(turn => new ChatMessage(turn.Role == TurnRole.User ? ChatRole.User : ChatRole.Assistant, turn.Content));

    /// <summary>The session's instructions for the model, with the reply language when one is set.</summary>
    internal static string Instructions(SessionConfig config) => config.Language is null
        ? config.Instructions
        : $"{config.Instructions}\nReply in the language '{config.Language}'.";
}
