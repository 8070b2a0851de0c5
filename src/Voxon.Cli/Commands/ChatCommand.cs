using System.CommandLine;
using Voxon.Conversations;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Cli.Commands;

/// <summary><c>voxon chat --user ID [--session ID] [--stream]</c>: an interactive chat that saves after every turn.</summary>
internal static class ChatCommand
{
    public static Command Create(CliIO io)
    {
        var user = new Option<string>("--user") { Description = "The user id", Required = true };
        var session = new Option<string?>("--session") { Description = "Session to continue, or the id of a new one" };
        var stream = new Option<bool>("--stream") { Description = "Print each reply as it arrives" };
        var command = new Command("chat", "Chat with the assistant; lines from standard input, /memory shows memory, /quit or end of input stops.");
        command.Options.Add(user);
        command.Options.Add(session);
        command.Options.Add(stream);
        command.SetAction((result, cancellationToken) => io.GuardAsync(() =>
            RunAsync(io, result, result.GetValue(user)!, result.GetValue(session), result.GetValue(stream), cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(CliIO io, ParseResult result, string userId, string? sessionId, bool stream, CancellationToken cancellationToken)
    {
        await using var voxon = CliIO.Client(result);
        Session session;
        if (sessionId is not null && await voxon.Storage.LoadAsync(SessionIds.Validate(sessionId), cancellationToken) is not null)
        {
            session = await voxon.LoadSessionAsync(sessionId, cancellationToken);
            if (session.UserId != userId)
            {
                throw new ArgumentException($"Session '{sessionId}' belongs to another user, not '{userId}'.");
            }

            await io.Output.WriteLineAsync($"Continuing session {session.SessionId} ({session.Conversations.Count} earlier conversations). {CliIO.EngineName(voxon)}.");
        }
        else
        {
            var config = new SessionConfig();
            if (sessionId is not null)
            {
                config.SessionId = sessionId;
            }

            session = await voxon.CreateSessionAsync(userId, config, cancellationToken);
            await io.Output.WriteLineAsync($"New session {session.SessionId}. {CliIO.EngineName(voxon)}.");
        }

        var current = session;
        var conversation = await current.StartConversationAsync(cancellationToken: cancellationToken);
        try
        {
            while (await io.Input.ReadLineAsync(cancellationToken) is { } line)
            {
                line = line.Trim();
                if (line.Length == 0)
                {
                    continue;
                }

                if (line is "/quit" or "/exit")
                {
                    break;
                }

                if (line == "/memory")
                {
                    await DemoCommand.WriteMemoryAsync(io.Output, current.GetMemory());
                    continue;
                }

                // A mistyped command is not said to the assistant (nor stored in the transcript as the user's words).
                if (line.StartsWith('/') && !line.Contains(' ', StringComparison.Ordinal))
                {
                    await io.Error.WriteLineAsync($"Unknown command {line}: /memory shows memory, /quit (or /exit) stops.");
                    continue;
                }

                // The turn counts as done once saved: a reply is shown (or, streaming, finished) only after the save,
                // and a save that lost to another writer is redone on the stored copy instead of dropping the turn.
                for (var attempt = 1; ; attempt++)
                {
                    var reply = await SendAsync(io, conversation, line, stream, cancellationToken);
                    try
                    {
                        await current.SaveAsync(cancellationToken);
                    }
                    catch (SessionConcurrencyException) when (attempt < MaxAttempts)
                    {
                        await io.Error.WriteLineAsync($"Session {current.SessionId} was saved by another writer meanwhile; sending \"{line}\" again on the stored copy.");
                        (current, conversation) = await ReloadAsync(voxon, current, conversation, cancellationToken);
                        continue;
                    }
                    catch (SessionConcurrencyException)
                    {
                        await io.Error.WriteLineAsync($"Not saved: \"{line}\" and the input after it; session {current.SessionId} kept changing under another writer.");
                        await current.CloseAsync(cancellationToken);
                        throw;
                    }

                    if (reply is not null)
                    {
                        await io.Output.WriteLineAsync($"assistant> {reply}");
                    }

                    break;
                }
            }
        }
        finally
        {
            await conversation.DisposeAsync();
            await current.DisposeAsync();
        }

        return 0;
    }

    /// <summary>How many times one turn is sent when each save loses to another writer.</summary>
    private const int MaxAttempts = 3;

    /// <summary>Sends one line; returns the reply to print once saved, or null when it was streamed already.</summary>
    private static async Task<string?> SendAsync(CliIO io, Conversation conversation, string line, bool stream, CancellationToken cancellationToken)
    {
        if (!stream)
        {
            return await conversation.SendMessageAsync(line, cancellationToken);
        }

        await io.Output.WriteAsync("assistant> ");
        await foreach (var chunk in conversation.StreamMessageAsync(line, cancellationToken))
        {
            await io.Output.WriteAsync(chunk);
            await io.Output.FlushAsync(cancellationToken);
        }

        await io.Output.WriteLineAsync();
        return null;
    }

    /// <summary>Drops the copy whose save conflicted and opens the stored one at the same conversation.</summary>
    private static async Task<(Session Session, Conversation Conversation)> ReloadAsync(VoxonClient voxon, Session stale, Conversation conversation, CancellationToken cancellationToken)
    {
        var conversationId = conversation.ConversationId;

        // Closed without saving: its save already lost, and the stored copy gets the turn instead.
        await stale.CloseAsync(cancellationToken);
        var fresh = await voxon.LoadSessionAsync(stale.SessionId, cancellationToken);
        var resumed = fresh.Conversations.Any(c => c.ConversationId == conversationId)
            ? await fresh.ResumeConversationAsync(conversationId, cancellationToken)
            : await fresh.StartConversationAsync(conversationId, cancellationToken: cancellationToken);
        return (fresh, resumed);
    }
}
