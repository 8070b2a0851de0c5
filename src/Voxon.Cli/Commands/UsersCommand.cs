using System.CommandLine;
using System.Globalization;

namespace Voxon.Cli.Commands;

/// <summary><c>voxon users erase USER</c>: per-user erasure with a receipt.</summary>
internal static class UsersCommand
{
    public static Command Create(CliIO io)
    {
        var command = new Command("users", "Act on everything stored for a user.");
        var user = new Argument<string>("user") { Description = "The user id" };
        var erase = new Command("erase", "Erase every session, memory, share and index entry of a user, destroying the user's data key first; prints a receipt.");
        erase.Arguments.Add(user);
        erase.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            await using var voxon = CliIO.Client(result);
            var receipt = await voxon.EraseUserAsync(result.GetValue(user)!, cancellationToken);
            await io.Output.WriteLineAsync(receipt.NothingErased
                ? $"Nothing stored for user {receipt.UserId} in {receipt.Backend} storage."
                : $"Erased user {receipt.UserId} from {receipt.Backend} storage{(receipt.Resumed ? " (resumed an interrupted erasure)" : string.Empty)}.");
            foreach (var (kind, count) in receipt.Counts.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {kind,-18} {count,8}"));
            }

            await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Started {receipt.StartedAt.UtcDateTime:u}, completed {receipt.CompletedAt.UtcDateTime:u}."));
            return 0;
        }));
        command.Subcommands.Add(erase);
        return command;
    }
}
