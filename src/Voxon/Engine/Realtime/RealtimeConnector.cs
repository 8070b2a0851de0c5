using System.Net.WebSockets;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OpenAI.Realtime;

namespace Voxon.Engine.Realtime;

// OPENAI002: the realtime API of the OpenAI SDK is experimental; the realtime engine is built on it.
#pragma warning disable OPENAI002

/// <summary>Opens configured realtime sessions: the first one, and new ones after a drop, with a bounded number of
/// attempts spaced by a doubling delay on the <see cref="TimeProvider"/>.</summary>
internal sealed class RealtimeConnector(RealtimeOptions options, TimeProvider time, ILogger logger)
{
    /// <summary>Most conversation turns replayed into a new session after a drop (the recent dialogue the model needs to go on).</summary>
    internal const int ReplayedTurns = 20;

    /// <summary>The endpoint, for messages.</summary>
    public string Endpoint { get; } = options.Endpoint?.ToString() ?? "api.openai.com";

    /// <summary>Whether a dropped connection is opened again.</summary>
    public bool Reconnects => options.MaxReconnectAttempts > 0;

    /// <summary>Connects, configures the session and adds the dialogue so far as conversation items.</summary>
    /// <exception cref="RealtimeConnectionException">The endpoint could not be reached or closed the connection.</exception>
    public async Task<RealtimeSessionClient> ConnectAsync(RealtimeConversationSessionOptions session, IReadOnlyList<ChatMessage> dialogue, CancellationToken cancellationToken)
    {
        RealtimeSessionClient client;
        try
        {
            client = await options.ConnectAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException)
        {
            throw new RealtimeConnectionException($"Could not connect to the realtime endpoint {Endpoint} (model '{options.Model}'): {ex.Message}", ex);
        }

        try
        {
            await client.ConfigureConversationSessionAsync(session, cancellationToken);
            foreach (var message in dialogue.TakeLast(ReplayedTurns))
            {
                await client.AddItemAsync(
                    message.Role == ChatRole.Assistant
                        ? RealtimeItem.CreateAssistantMessageItem([new RealtimeOutputTextMessageContentPart(message.Text)])
                        : RealtimeItem.CreateUserMessageItem([new RealtimeInputTextMessageContentPart(message.Text)]),
                    cancellationToken);
            }

            return client;
        }
        catch (Exception ex)
        {
            client.Dispose();
            if (ex is WebSocketException or IOException)
            {
                throw new RealtimeConnectionException($"The realtime endpoint {Endpoint} closed the connection while it was being configured: {ex.Message}", ex);
            }

            throw;
        }
    }

    /// <summary>Opens a new session after a drop: up to <see cref="RealtimeOptions.MaxReconnectAttempts"/> attempts, the
    /// first after <see cref="RealtimeOptions.ReconnectDelay"/>, each later one after twice the previous delay.</summary>
    /// <param name="session">The session configuration as it stands when an attempt is made.</param>
    /// <param name="dialogue">The conversation so far, replayed into the new session.</param>
    /// <param name="cancellationToken">Stops trying (the conversation is ending).</param>
    /// <returns>The new session and the attempt that opened it, or null when every attempt failed or trying was stopped.</returns>
    public async Task<(RealtimeSessionClient Client, int Attempt)?> ReconnectAsync(
        Func<RealtimeConversationSessionOptions> session, Func<IReadOnlyList<ChatMessage>> dialogue, CancellationToken cancellationToken)
    {
        var delay = options.ReconnectDelay;
        for (var attempt = 1; attempt <= options.MaxReconnectAttempts; attempt++, delay *= 2)
        {
            try
            {
                await Task.Delay(delay, time, cancellationToken);
                return (await ConnectAsync(session(), dialogue(), cancellationToken), attempt);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return null;
            }
            catch (RealtimeConnectionException ex)
            {
                logger.LogWarning(ex, "Reconnecting to the realtime endpoint {Endpoint} failed (attempt {Attempt} of {Attempts}).", Endpoint, attempt, options.MaxReconnectAttempts);
            }
        }

        return null;
    }
}
