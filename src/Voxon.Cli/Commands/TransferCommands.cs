using System.CommandLine;

namespace Voxon.Cli.Commands;

/// <summary><c>voxon sessions export ID</c> (to stdout) and <c>voxon sessions import FILE [--map old=new ...] [--new-id]</c>.</summary>
internal static class TransferCommands
{
    public static void AddTo(Command sessions, CliIO io)
    {
        var id = new Argument<string>("id") { Description = "The session id" };
        var export = new Command("export", "Write a full, checksummed export of a session to standard output.");
        export.Arguments.Add(id);
        export.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            await using var voxon = CliIO.Client(result);
            // Closed, not disposed: disposal would save, and an export must not change the store.
            var session = await voxon.LoadSessionAsync(result.GetValue(id)!, cancellationToken);
            var data = await session.ExportFullAsync(cancellationToken);
            await session.CloseAsync(cancellationToken);
            await io.Output.WriteLineAsync(data.ToString());
            return 0;
        }));

        var file = new Argument<string>("file") { Description = "The export file ('-' for standard input)" };
        var map = new Option<string[]>("--map") { Description = "Replace a user id: old=new (repeatable)", AllowMultipleArgumentsPerToken = true };
        var newId = new Option<bool>("--new-id") { Description = "Store under a fresh session id instead of the exported one" };
        var import = new Command("import", "Import a session export into the store.");
        import.Arguments.Add(file);
        import.Options.Add(map);
        import.Options.Add(newId);
        import.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            var mapping = ParseMapping(result.GetValue(map) ?? []);
            var path = result.GetValue(file)!;
            if (Directory.Exists(path))
            {
                throw new ArgumentException($"'{path}' is a directory, not an export file; give the file written by 'voxon sessions export'.");
            }

            await using var voxon = CliIO.Client(result);
            await using var stream = path == "-" ? Console.OpenStandardInput() : File.OpenRead(path);
            var session = await voxon.ImportSessionAsync(stream, mapping, result.GetValue(newId), cancellationToken);
            await session.CloseAsync(cancellationToken);
            await io.Output.WriteLineAsync($"Imported session {session.SessionId} for user {session.UserId} (version {session.Version}).");
            return 0;
        }));

        sessions.Subcommands.Add(export);
        sessions.Subcommands.Add(import);
    }

    private static Dictionary<string, string> ParseMapping(string[] pairs)
    {
        var mapping = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var parts = pair.Split('=');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0 || !mapping.TryAdd(parts[0], parts[1]))
            {
                throw new ArgumentException($"--map takes old=new once per old id, got '{pair}'");
            }
        }

        return mapping;
    }
}
