using System.CommandLine;
using System.Globalization;
using Voxon.Conversations;

namespace Voxon.Cli.Commands;

/// <summary><c>voxon sessions list [--user ID]</c>, <c>voxon sessions show ID</c>, <c>voxon sessions repair ID</c> and
/// <c>voxon sessions prune --older-than AGE</c>.</summary>
internal static class SessionsCommand
{
    public static Command Create(CliIO io)
    {
        var command = new Command("sessions", "List and inspect stored sessions.");

        var user = new Option<string?>("--user") { Description = "Only this user's sessions" };
        var list = new Command("list", "List stored sessions, most recent first.");
        list.Options.Add(user);
        list.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            await using var voxon = io.ReportingSkipped(CliIO.Client(result));
            var sessions = await voxon.ListSessionsAsync(result.GetValue(user), cancellationToken);
            if (sessions.Count == 0)
            {
                await io.Output.WriteLineAsync("No sessions.");
                return 0;
            }

            await io.Output.WriteLineAsync($"{"SESSION",-34} {"USER",-20} {"UPDATED",-20} {"CONVS",5} {"MSGS",6}");
            foreach (var s in sessions)
            {
                await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{s.SessionId,-34} {s.UserId,-20} {s.UpdatedAt.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {s.ConversationCount,5} {s.MessageCount,6}"));
            }

            return 0;
        }));

        var id = new Argument<string>("id") { Description = "The session id" };
        var show = new Command("show", "Show a session: config, memory, conversations and transcripts.");
        show.Arguments.Add(id);
        show.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            await using var voxon = CliIO.Client(result);
            var session = await voxon.LoadSessionAsync(result.GetValue(id)!, cancellationToken);
            var o = io.Output;
            await o.WriteLineAsync($"Session {session.SessionId}  user {session.UserId}  version {session.Version}");
            await o.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Created {session.CreatedAt:u}  updated {session.UpdatedAt:u}"));
            var c = session.Config;
            await o.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Config: voice {c.Voice}, temperature {c.Temperature}, max_output_tokens {c.MaxOutputTokens}, memory_mode {c.MemoryMode.ToString().ToLowerInvariant()}, max_memory_size {c.MaxMemorySize}"));
            await o.WriteLineAsync($"Instructions: {c.Instructions}");
            await o.WriteLineAsync("Memory:");
            await DemoCommand.WriteMemoryAsync(o, session.GetMemory());
            foreach (var conversation in session.Conversations)
            {
                var parent = conversation.ParentId is null ? string.Empty : $" (branch of {conversation.ParentId})";
                await o.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Conversation {conversation.ConversationId}{parent}, started {conversation.StartedAt:u}, {conversation.TurnCount} messages"));
                foreach (var turn in session.GetTranscript(conversation.ConversationId))
                {
                    await o.WriteLineAsync($"  {(turn.Role == TurnRole.User ? "user" : "assistant"),9}> {turn.Content}");
                }
            }

            return 0;
        }));

        var olderThan = new Option<string>("--older-than") { Description = "Age past which a session is deleted: 90d, 12h, 30m", Required = true };
        var pruneUser = new Option<string?>("--user") { Description = "Only this user's sessions" };
        var dryRun = new Option<bool>("--dry-run") { Description = "List what would be deleted; delete nothing" };
        var prune = new Command("prune", "Delete sessions not updated for a given age (retention); run again to finish an interrupted prune.");
        prune.Options.Add(olderThan);
        prune.Options.Add(pruneUser);
        prune.Options.Add(dryRun);
        prune.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            var age = CliIO.ParseDuration(result.GetValue(olderThan)!, "--older-than");
            await using var voxon = CliIO.Client(result);
            var pruned = await voxon.PruneSessionsAsync(age, result.GetValue(pruneUser), result.GetValue(dryRun), cancellationToken);
            foreach (var id in pruned.SessionIds)
            {
                await io.Output.WriteLineAsync(id);
            }

            await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{(pruned.DryRun ? "Would delete" : "Deleted")} {pruned.SessionIds.Count} sessions last updated before {pruned.Cutoff.UtcDateTime:u}."));
            return 0;
        }));

        var repair = new Command("repair", "Restore the last consistent version of a session whose stored data is damaged; the damaged data is kept aside.");
        repair.Arguments.Add(id);
        repair.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            await using var voxon = CliIO.Client(result);
            var sessionId = result.GetValue(id)!;
            var outcome = await voxon.RepairSessionAsync(sessionId, cancellationToken);
            if (!outcome.Repaired)
            {
                await io.Output.WriteLineAsync($"Session {sessionId} is intact at version {outcome.Version}; nothing to repair.");
                return 0;
            }

            await io.Output.WriteLineAsync($"Session {sessionId} restored to version {outcome.Version} (version {outcome.AcknowledgedVersion} had been saved): {outcome.Problem}.");
            if (outcome.DamagedCopy is not null)
            {
                await io.Output.WriteLineAsync($"The damaged data is kept in {outcome.DamagedCopy}.");
            }

            return 0;
        }));

        command.Subcommands.Add(list);
        command.Subcommands.Add(show);
        command.Subcommands.Add(repair);
        command.Subcommands.Add(prune);
        TransferCommands.AddTo(command, io);
        return command;
    }
}
