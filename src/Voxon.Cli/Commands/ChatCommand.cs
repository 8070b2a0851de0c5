using System.CommandLine;
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
            RunAsync(io, result.GetValue(VoxonCommand.Store)!, result.GetValue(user)!, result.GetValue(session), result.GetValue(stream), cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(CliIO io, string store, string userId, string? sessionId, bool stream, CancellationToken cancellationToken)
    {
        await using var voxon = CliIO.Client(store);
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

        await using (session)
        {
            await using var conversation = await session.StartConversationAsync(cancellationToken: cancellationToken);
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
                    await DemoCommand.WriteMemoryAsync(io.Output, session.GetMemory());
                    continue;
                }

                if (stream)
                {
                    await io.Output.WriteAsync("assistant> ");
                    await foreach (var chunk in conversation.StreamMessageAsync(line, cancellationToken))
                    {
                        await io.Output.WriteAsync(chunk);
                        await io.Output.FlushAsync(cancellationToken);
                    }

                    await io.Output.WriteLineAsync();
                }
                else
                {
                    await io.Output.WriteLineAsync($"assistant> {await conversation.SendMessageAsync(line, cancellationToken)}");
                }

                await session.SaveAsync(cancellationToken);
            }
        }

        return 0;
    }
}
