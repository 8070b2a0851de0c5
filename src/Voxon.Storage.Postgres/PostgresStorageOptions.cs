namespace Voxon.Storage.Postgres;

/// <summary>Settings of the PostgreSQL backend.</summary>
public sealed class PostgresStorageOptions
{
    /// <summary>A <c>postgresql://user:pass@host:port/db</c> URL (query keys such as <c>sslmode</c> and <c>schema</c>
    /// are honoured) or an Npgsql connection string. Required.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>Schema the tables live in; created when missing. Default <c>public</c>, or the URL's <c>schema</c> query key.</summary>
    public string? Schema { get; set; }

    /// <summary>Encryption of stored records; null stores them in plaintext.</summary>
    public SessionEncryption? Encryption { get; set; }
}
