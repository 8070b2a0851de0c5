using System.CommandLine;
using System.Globalization;
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

    /// <summary>Prints a "skipped:" line on standard error for each stored record a listing or rewrite of
    /// <paramref name="client"/>'s storage skips (damaged, or sealed with a key not configured): it goes on without
    /// it, but must not hide it.</summary>
    public VoxonClient ReportingSkipped(VoxonClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.Storage.RecordSkipped += (_, problem) => Error.WriteLine($"skipped: {problem.Message}");
        return client;
    }

    /// <summary>A client with the same options the library takes: the backend and its URL from the flags (or
    /// VOXON_STORAGE, VOXON_SESSIONS, VOXON_DATABASE_URL, VOXON_REDIS_URL), the encryption key from VOXON_SESSION_KEY
    /// (older keys from VOXON_SESSION_PREVIOUS_KEYS), the model from the environment or the offline engine.</summary>
    /// <param name="result">The parsed command line.</param>
    /// <param name="store">A file store folder that overrides <c>--store</c> (the demo's temporary folder).</param>
    public static VoxonClient Client(ParseResult result, string? store = null) => new(Options(result, store));

    /// <summary>The one place the CLI builds <see cref="VoxonOptions"/> from its flags and the environment.</summary>
    /// <exception cref="ArgumentException">--session-timeout or --memory-ttl is malformed.</exception>
    public static VoxonOptions Options(ParseResult result, string? store = null)
    {
        var options = new VoxonOptions
        {
            SessionStorage = result.GetValue(VoxonCommand.Storage)!,
            SessionStoragePath = store ?? result.GetValue(VoxonCommand.Store)!,
            SessionDatabaseUrl = result.GetValue(VoxonCommand.DatabaseUrl),
            SessionRedisUrl = result.GetValue(VoxonCommand.RedisUrl),
            UseEnvironment = true,
        };
        ApplyRetention(result, options);
        return options;
    }

    /// <summary>Sets <see cref="VoxonOptions.SessionTimeout"/> and <see cref="VoxonOptions.MemoryTtl"/> from
    /// <c>--session-timeout</c> and <c>--memory-ttl</c> (or their environment variables).</summary>
    /// <exception cref="ArgumentException">A value is malformed; the message names it.</exception>
    public static void ApplyRetention(ParseResult result, VoxonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (result.GetValue(VoxonCommand.SessionTimeout) is { Length: > 0 } timeout)
        {
            options.SessionTimeout = ParseDuration(timeout, "--session-timeout");
        }

        foreach (var pair in (result.GetValue(VoxonCommand.MemoryTtl) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // symptoms=30d: the category, then its lifetime.
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].Length == 0 || !options.MemoryTtl.TryAdd(parts[0], ParseDuration(parts[1], $"--memory-ttl {pair}")))
            {
                throw new ArgumentException($"--memory-ttl takes category=lifetime pairs separated by commas, each category once (symptoms=30d,contact=12h), got '{pair}'.");
            }
        }
    }

    /// <summary>A duration such as <c>90d</c>, <c>12h</c> or <c>30m</c>, at most <see cref="Sessions.Session.MaxMemoryLifetime"/>.</summary>
    /// <exception cref="ArgumentException">Not a positive number followed by d, h or m, or longer; the message names <paramref name="what"/>.</exception>
    public static TimeSpan ParseDuration(string text, string what)
    {
        var unit = text.Length > 1 ? text[^1] : ' ';
        if (!int.TryParse(text.AsSpan(0, Math.Max(0, text.Length - 1)), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount <= 0 || unit is not ('d' or 'h' or 'm'))
        {
            throw new ArgumentException($"{what} must be a positive number followed by d, h or m (90d, 12h, 30m), got '{text}'.");
        }

        // In minutes as a double first: a large count of days or hours would overflow TimeSpan.
        var minutes = amount * (unit switch { 'd' => 1440.0, 'h' => 60.0, _ => 1.0 });
        return minutes <= Sessions.Session.MaxMemoryLifetime.TotalMinutes
            ? TimeSpan.FromMinutes(minutes)
            : throw new ArgumentException($"{what} may be at most {Sessions.Session.MaxMemoryLifetime.TotalDays:F0} days, got '{text}'.");
    }

    /// <summary>Describes the engine in use.</summary>
    public static string EngineName(VoxonClient client) =>
        OfflineChatClient.IsOffline(client.ChatClient) ? "offline engine (no model configured)" : $"model via {ModelOptions.EndpointVariable}";
}
