using System.Text.RegularExpressions;
using Npgsql;

namespace Voxon.Storage.Postgres;

/// <summary>The PostgreSQL backend (<c>session_storage="database"</c>): creation and configuration.</summary>
public static partial class PostgresStorage
{
    /// <summary>Selects PostgreSQL storage at <paramref name="url"/> (<c>postgresql://user:pass@host:port/db</c> or an
    /// Npgsql connection string), like <c>SessionStorage = "database"</c> with <c>SessionDatabaseUrl</c>.</summary>
    public static VoxonOptions UsePostgres(this VoxonOptions options, string url)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        Register();
        options.SessionStorage = "database";
        options.SessionDatabaseUrl = url;
        return options;
    }

    /// <summary>A PostgreSQL backend; dispose it to close its connections.</summary>
    /// <exception cref="ArgumentException">The connection string or schema is invalid.</exception>
    public static SessionStorage Create(PostgresStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (connectionString, urlSchema) = ParseUrl(options.ConnectionString);
        var schema = options.Schema ?? urlSchema ?? "public";
        if (!SchemaPattern().IsMatch(schema))
        {
            throw new ArgumentException($"Invalid schema name '{schema}': letters, digits and '_', starting with a letter or '_'.", nameof(options));
        }

        return new PostgresSessionStorage(connectionString, schema, options.Encryption);
    }

    /// <summary>Registers <c>database</c> with <see cref="SessionStorageProviders"/> (called for you by <see cref="UsePostgres"/>
    /// and when the options name <c>database</c> with this package referenced).</summary>
    public static void Register() =>
        SessionStorageProviders.Register("database", options => Create(new PostgresStorageOptions
        {
            ConnectionString = options.SessionDatabaseUrl ?? string.Empty,
            Encryption = options.CreateEncryption(),
        }));

    /// <summary>An Npgsql connection string from a URL, and the URL's <c>schema</c> key; other strings pass through.</summary>
    /// <exception cref="ArgumentException">It is malformed (the message does not repeat it: it may hold a password).</exception>
    internal static (string ConnectionString, string? Schema) ParseUrl(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        if (!value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) && !value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return (new NpgsqlConnectionStringBuilder(value).ConnectionString, null);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"The database URL is neither a postgresql:// URL nor a connection string (Host=...;Database=...): {ex.Message}", nameof(value), ex);
            }
        }

        // The messages never repeat the URL: it may hold a password.
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            throw new ArgumentException("The database URL is malformed: expected postgresql://user:password@host:port/database, with a numeric port and special characters in the user and password percent-encoded.", nameof(value));
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } db ? db : null,
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            builder.Password = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : null;
        }

        string? schema = null;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var val = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : string.Empty;
            if (key.Equals("schema", StringComparison.OrdinalIgnoreCase))
            {
                schema = val;
            }
            else
            {
                try
                {
                    builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = val;
                }
                catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
                {
                    throw new ArgumentException($"The database URL's setting '{key}' is not a PostgreSQL connection setting it can take (schema, sslmode or an Npgsql keyword with a valid value).", nameof(value), ex);
                }
            }
        }

        return (builder.ConnectionString, schema);
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
    private static partial Regex SchemaPattern();
}
