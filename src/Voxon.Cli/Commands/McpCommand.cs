using System.CommandLine;
using Voxon.Server.Hosting;
using Voxon.Server.Mcp;

namespace Voxon.Cli.Commands;

/// <summary><c>voxon mcp --session ID</c>: the memory tools of one session over MCP on stdin/stdout.</summary>
internal static class McpCommand
{
    public static Command Create(CliIO io)
    {
        var session = new Option<string>("--session") { Description = "The session the tools may touch", Required = true };
        var command = new Command("mcp", "Serve memory_search, memory_add, memory_forget and session_summary for one session over MCP (stdio).");
        command.Options.Add(session);
        command.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            // --store may be a postgresql:// or redis:// URL, as for serve; otherwise the storage and retention flags
            // every other command reads apply too: memories added here must expire as --memory-ttl says.
            var server = new VoxonServerOptions { Store = result.GetValue(VoxonCommand.Store)!, ConfigureVoxon = options => CliIO.ApplyRetention(result, options) };
            var options = server.StoreIsUrl ? server.CreateVoxonOptions() : CliIO.Options(result);
            await McpEndpoints.RunStdioAsync(options, result.GetValue(session)!, cancellationToken);
            return 0;
        }));
        return command;
    }
}
