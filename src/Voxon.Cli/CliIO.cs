using System.CommandLine;
using Voxon.Engine;

namespace Voxon.Cli;

/// <summary>The streams a command talks through, and the one place errors become a single line.</summary>
public sealed record CliIO(TextReader Input, TextWriter Output, TextWriter Error)
{
    /// <summary>Runs <paramref name="body"/>; expected failures print one line and return 1, never a stack trace.</summary>
    public async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception ex) when (ex is VoxonException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            // An argument error's message ends with "(Parameter 'x')", which says nothing to a CLI user.
            var message = ex is ArgumentException { ParamName: { } name } ? ex.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : ex.Message;
            await Error.WriteLineAsync($"error: {message}");
            return 1;
        }
    }

    /// <summary>A client with the same options the library takes: the backend and its URL from the flags (or
    /// VOXON_STORAGE, VOXON_SESSIONS, VOXON_DATABASE_URL, VOXON_REDIS_URL), the encryption key from VOXON_SESSION_KEY
    /// (older keys from VOXON_SESSION_PREVIOUS_KEYS), the model from the environment or the offline engine.</summary>
    /// <param name="result">The parsed command line.</param>
    /// <param name="store">A file store folder that overrides <c>--store</c> (the demo's temporary folder).</param>
    public static VoxonClient Client(ParseResult result, string? store = null) => new(Options(result, store));

    /// <summary>The one place the CLI builds <see cref="VoxonOptions"/> from its flags and the environment.</summary>
    public static VoxonOptions Options(ParseResult result, string? store = null) => new()
    {
        SessionStorage = result.GetValue(VoxonCommand.Storage)!,
        SessionStoragePath = store ?? result.GetValue(VoxonCommand.Store)!,
        SessionDatabaseUrl = result.GetValue(VoxonCommand.DatabaseUrl),
        SessionRedisUrl = result.GetValue(VoxonCommand.RedisUrl),
        UseEnvironment = true,
    };

    /// <summary>Describes the engine in use.</summary>
    public static string EngineName(VoxonClient client) =>
        OfflineChatClient.IsOffline(client.ChatClient) ? "offline engine (no model configured)" : $"model via {ModelOptions.EndpointVariable}";
}
