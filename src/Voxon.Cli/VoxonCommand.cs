using System.CommandLine;
using Voxon.Cli.Commands;

namespace Voxon.Cli;

/// <summary>The <c>voxon</c> command line: parses arguments and calls the library; errors become one line and exit code 1.</summary>
public static class VoxonCommand
{
    /// <summary>Where sessions are stored unless --store says otherwise.</summary>
    public static readonly Option<string> Store = new("--store")
    {
        Description = "Folder of the file session storage",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("VOXON_SESSIONS") ?? "./sessions",
        Recursive = true,
    };

    /// <summary>Storage backend: file, database (PostgreSQL) or redis, as <see cref="VoxonOptions.SessionStorage"/>.</summary>
    public static readonly Option<string> Storage = new("--storage")
    {
        Description = "Storage backend: file, database (PostgreSQL) or redis (default: $VOXON_STORAGE or file)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("VOXON_STORAGE") ?? "file",
        Recursive = true,
    };

    /// <summary>PostgreSQL URL for <c>--storage database</c>.</summary>
    public static readonly Option<string?> DatabaseUrl = new("--database-url")
    {
        Description = "PostgreSQL URL for --storage database (default: $VOXON_DATABASE_URL)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("VOXON_DATABASE_URL"),
        Recursive = true,
    };

    /// <summary>Redis URL for <c>--storage redis</c>.</summary>
    public static readonly Option<string?> RedisUrl = new("--redis-url")
    {
        Description = "Redis URL for --storage redis (default: $VOXON_REDIS_URL)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("VOXON_REDIS_URL"),
        Recursive = true,
    };

    /// <summary>Idle timeout of open sessions, as <see cref="VoxonOptions.SessionTimeout"/>.</summary>
    public static readonly Option<string?> SessionTimeout = new("--session-timeout")
    {
        Description = "Save and close an open session after this long without activity: 30m, 2h, 1d (default: $VOXON_SESSION_TIMEOUT or none)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("VOXON_SESSION_TIMEOUT"),
        Recursive = true,
    };

    /// <summary>Lifetimes of memory categories, as <see cref="VoxonOptions.MemoryTtl"/>.</summary>
    public static readonly Option<string?> MemoryTtl = new("--memory-ttl")
    {
        Description = "Memory categories that expire, as category=lifetime pairs: symptoms=30d,contact=12h (default: $VOXON_MEMORY_TTL or none)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("VOXON_MEMORY_TTL"),
        Recursive = true,
    };

    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Voxon: sessions, memory and analytics for voice assistants.");
        root.Options.Add(Store);
        root.Options.Add(Storage);
        root.Options.Add(DatabaseUrl);
        root.Options.Add(RedisUrl);
        root.Options.Add(SessionTimeout);
        root.Options.Add(MemoryTtl);
        var io = new CliIO(input, output, error);
        root.Subcommands.Add(DemoCommand.Create(io));
        root.Subcommands.Add(ChatCommand.Create(io));
        root.Subcommands.Add(SessionsCommand.Create(io));
        root.Subcommands.Add(EvalCommand.Create(io));
        root.Subcommands.Add(ShareCommand.Create(io));
        root.Subcommands.Add(AnalyticsCommand.Create(io));
        root.Subcommands.Add(VoiceCommand.Create(io));
        root.Subcommands.Add(ServerCommands.Serve(io));
        root.Subcommands.Add(ServerCommands.Keys(io));
        root.Subcommands.Add(McpCommand.Create(io));
        root.Subcommands.Add(StoreCommand.Create(io));
        root.Subcommands.Add(UsersCommand.Create(io));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var parseError in parse.Errors)
            {
                await error.WriteLineAsync($"error: {parseError.Message}");
            }

            return 2;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    }
}
