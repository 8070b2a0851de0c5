using System.CommandLine;

namespace Voxon.Cli.Commands;

/// <summary><c>voxon store rotate-key</c>: re-encrypts every record of a store with the current key;
/// <c>voxon store migrate</c>: rewrites every record in the current storage format.</summary>
internal static class StoreCommand
{
    public static Command Create(CliIO io)
    {
        var command = new Command("store", "Maintain a whole store.");
        var rotate = new Command("rotate-key",
            "Rewrap user keys and re-encrypt every session, share and template with VOXON_SESSION_KEY; the old keys go in VOXON_SESSION_PREVIOUS_KEYS (comma-separated) and can be dropped afterwards.");
        rotate.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            var options = CliIO.Options(result);
            if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Storage.SessionEncryption.KeyVariable)))
            {
                throw new ArgumentException($"Set {Storage.SessionEncryption.KeyVariable} to the new key (and {VoxonOptions.PreviousKeysVariable} to the old ones) before rotating.");
            }

            await using var voxon = io.ReportingSkipped(new VoxonClient(options));
            // User data keys are rewrapped under the new master key (their data stays as it is); records sealed with a
            // master key directly (templates, records from before the key ring) are re-encrypted.
            var rewrapped = await voxon.Storage.RewrapKeysAsync(cancellationToken);
            await io.Output.WriteLineAsync($"Rewrapped {rewrapped} user keys under the new key.");
            return await RewriteAllAsync(io, voxon, "Re-encrypted", "; keep their keys until they are repaired", cancellationToken);
        }));
        command.Subcommands.Add(rotate);

        var migrate = new Command("migrate",
            "Rewrite every session, share and template in the current storage format, in place (binary memory records and sectioned file snapshots); sessions not migrated are still read, and each is rewritten at its next snapshot anyway.");
        migrate.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            await using var voxon = io.ReportingSkipped(new VoxonClient(CliIO.Options(result)));
            return await RewriteAllAsync(io, voxon, "Migrated", string.Empty, cancellationToken);
        }));
        command.Subcommands.Add(migrate);
        return command;
    }

    /// <summary>Rewrites every record of the store; 1 when some could not be read.</summary>
    private static async Task<int> RewriteAllAsync(CliIO io, VoxonClient voxon, string done, string skippedAdvice, CancellationToken cancellationToken)
    {
        var rewritten = await voxon.Storage.RewriteAllAsync(cancellationToken);
        await io.Output.WriteLineAsync($"{done} {rewritten.Sessions} sessions, {rewritten.Shares} shares and {rewritten.Templates} templates.");
        if (rewritten.Skipped > 0)
        {
            await io.Error.WriteLineAsync($"{rewritten.Skipped} records could not be read and were left as they were{skippedAdvice}.");
            return 1;
        }

        return 0;
    }
}
