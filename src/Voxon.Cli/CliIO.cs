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

    /// <summary>A client over the file storage in <paramref name="store"/> (encrypted with <c>VOXON_SESSION_KEY</c> when set),
    /// with the model from the environment or the offline engine.</summary>
    public static VoxonClient Client(string store) =>
        new(new VoxonOptions { SessionStoragePath = store });

    /// <summary>Describes the engine in use.</summary>
    public static string EngineName(VoxonClient client) =>
        OfflineChatClient.IsOffline(client.ChatClient) ? "offline engine (no model configured)" : $"model via {ModelOptions.EndpointVariable}";
}
