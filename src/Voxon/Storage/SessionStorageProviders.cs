using System.Collections.Concurrent;
using System.Reflection;

namespace Voxon.Storage;

/// <summary>
/// Maps <see cref="VoxonOptions.SessionStorage"/> names to backends. <c>file</c> is built in; backend packages
/// register theirs (<c>database</c> by Voxon.Storage.Postgres, <c>redis</c> by Voxon.Storage.Redis), so
/// <c>SessionStorage = "database"</c> with <c>SessionDatabaseUrl</c> works as soon as the package is referenced.
/// </summary>
/// <remarks>Thread-safe. A registration replaces an earlier one with the same name.</remarks>
public static class SessionStorageProviders
{
    private static readonly ConcurrentDictionary<string, Func<VoxonOptions, SessionStorage>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["file"] = options => new FileSessionStorage(options.SessionStoragePath, options.CreateEncryption()),
    };

    /// <summary>Packages that register a backend, tried when a name is not registered yet (the package may not be loaded).</summary>
    private static readonly Dictionary<string, string> KnownPackages = new(StringComparer.OrdinalIgnoreCase)
    {
        ["database"] = "Voxon.Storage.Postgres.PostgresStorageRegistration, Voxon.Storage.Postgres",
        ["redis"] = "Voxon.Storage.Redis.RedisStorageRegistration, Voxon.Storage.Redis",
    };

    /// <summary>Registers the backend called <paramref name="name"/>; <paramref name="factory"/> builds it from the options.</summary>
    public static void Register(string name, Func<VoxonOptions, SessionStorage> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        Factories[name] = factory;
    }

    /// <summary>Whether a backend called <paramref name="name"/> is available (loading its package when it is referenced).</summary>
    public static bool IsRegistered(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Factories.ContainsKey(name))
        {
            return true;
        }

        if (KnownPackages.TryGetValue(name, out var typeName)
            && Type.GetType(typeName, throwOnError: false)?.GetMethod("Register", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, []) is { } register)
        {
            register.Invoke(null, null);
        }

        return Factories.ContainsKey(name);
    }

    /// <summary>The package that provides <paramref name="name"/>, for error messages.</summary>
    internal static string? PackageOf(string name) => KnownPackages.TryGetValue(name, out var typeName) ? typeName[(typeName.IndexOf(',', StringComparison.Ordinal) + 2)..] : null;

    /// <summary>Builds the backend the options name.</summary>
    internal static SessionStorage Create(VoxonOptions options) =>
        IsRegistered(options.SessionStorage)
            ? Factories[options.SessionStorage](options)
            : throw new VoxonConfigurationException("Voxon options", [$"no storage backend '{options.SessionStorage}' is registered"]);
}
