using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Voxon.Context;
using Voxon.Engine;
using Voxon.Storage;

namespace Voxon;

/// <summary>
/// Process-wide settings (the spec's <c>VoxonConfig</c>): where sessions are stored, which model answers,
/// which embedding model searches memory, time and logging. Plain options with documented defaults,
/// validated once when the <see cref="VoxonClient"/> is created.
/// </summary>
public sealed class VoxonOptions
{
    /// <summary>Backend name: <c>file</c> (default), <c>database</c> (PostgreSQL) or <c>redis</c>.</summary>
    public string SessionStorage { get; set; } = "file";

    /// <summary>Folder of the file backend. Default <c>./sessions</c>.</summary>
    public string SessionStoragePath { get; set; } = "./sessions";

    /// <summary>PostgreSQL URL (<c>postgresql://user:pass@host:port/db</c>) or Npgsql connection string, for <c>database</c>.</summary>
    public string? SessionDatabaseUrl { get; set; }

    /// <summary>Redis URL (<c>redis://host:port</c>) or StackExchange.Redis configuration, for <c>redis</c>.</summary>
    public string? SessionRedisUrl { get; set; }

    /// <summary>A storage object (custom subclass or a configured backend); when set it wins over <see cref="SessionStorage"/>.
    /// It is used as given: the client neither retries its transient failures nor disposes it. With an encryption key
    /// configured, it must encrypt itself (<see cref="Voxon.Storage.SessionStorage.IsEncrypted"/>), or the options are refused.</summary>
    public SessionStorage? Storage { get; set; }

    /// <summary>Key that encrypts stored sessions (AES-256-GCM); null reads <c>VOXON_SESSION_KEY</c> when
    /// <see cref="UseEnvironment"/> is true, else stores plaintext. 32 bytes in base64 or hex, or any secret string
    /// (a key is derived from it with PBKDF2 and the store's salt). Applies to the file, database and redis backends.</summary>
    public string? SessionEncryptionKey { get; set; }

    /// <summary>Encryption method; only <c>AES256</c> (AES-256-GCM) is supported. Default <c>AES256</c>.</summary>
    public string SessionEncryptionMethod { get; set; } = Voxon.Storage.SessionEncryption.Aes256;

    /// <summary>The environment variable with earlier keys (comma-separated), read when <see cref="SessionEncryptionPreviousKeys"/> is empty and <see cref="UseEnvironment"/> is true.</summary>
    public const string PreviousKeysVariable = "VOXON_SESSION_PREVIOUS_KEYS";

    /// <summary>Earlier keys, still accepted for reading (key rotation); sessions are rewritten with the current key when
    /// next saved, and <see cref="Storage.SessionStorage.RewriteAllAsync"/> rewrites a whole store. Empty reads
    /// <c>VOXON_SESSION_PREVIOUS_KEYS</c> when <see cref="UseEnvironment"/> is true.</summary>
    public IList<string> SessionEncryptionPreviousKeys { get; } = [];

    /// <summary>Attempts per storage operation when failures are transient (1 disables retries). Default 3.</summary>
    public int StorageRetryAttempts { get; set; } = 3;

    /// <summary>First delay between attempts; doubled each time, with jitter. Default 100 ms.</summary>
    public TimeSpan StorageRetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The model; when null, <see cref="Model"/> or the environment (<c>VOXON_MODEL_ENDPOINT</c>...) is used, else the offline engine.</summary>
    public IChatClient? ChatClient { get; set; }

    /// <summary>Functions offered to the model in every session whose config has <see cref="Sessions.SessionConfig.EnableFunctions"/>
    /// (for example from <see cref="AIFunctionFactory.Create(Delegate, string?, string?, System.Text.Json.JsonSerializerOptions?)"/>),
    /// beside each session's own (<see cref="Sessions.Session.AddTool"/>) and the built-in memory tools (<see cref="Turns.MemoryTools"/>).</summary>
    public IList<AITool> Tools { get; } = [];

    /// <summary>An OpenAI-compatible endpoint to use when <see cref="ChatClient"/> is null.</summary>
    public ModelOptions? Model { get; set; }

    /// <summary>The realtime speech endpoint for voice conversations; when null, the environment
    /// (<c>VOXON_REALTIME_ENDPOINT</c>, <c>VOXON_REALTIME_MODEL</c>, <c>VOXON_API_KEY</c>) when <see cref="UseEnvironment"/> is true.</summary>
    public Engine.Realtime.RealtimeOptions? Realtime { get; set; }

    /// <summary>Whether the environment variables may configure a model when neither <see cref="ChatClient"/> nor <see cref="Model"/> is set. Default true.</summary>
    public bool UseEnvironment { get; set; } = true;

    /// <summary>Whether a configured model (not the offline engine) extracts memories from each user message, with the
    /// offline rules as fallback. One extra model call per turn. Default true.</summary>
    public bool ModelMemoryExtraction { get; set; } = true;

    /// <summary>
    /// Embedding model for memory search; default the local snowflake-arctic-embed-xs (<see cref="Memory.Search.ArcticXsEmbeddingGenerator"/>),
    /// which beat all-MiniLM-L6-v2 (<see cref="Memory.Search.MiniLmEmbeddingGenerator"/>) on the dialogue sets in bench/eval-sets.
    /// It embeds memories and search queries in int8 (a third of the model time on the voice path, the same recall or
    /// better); <see cref="Memory.Search.ArcticXsEmbeddingGenerator.SharedFor"/> picks other precisions. Memories embedded
    /// by another model are re-embedded when a session loads; memories embedded by this one in float32 keep their vectors.
    /// </summary>
    public IEmbeddingGenerator<string, Embedding<float>>? EmbeddingGenerator { get; set; }

    /// <summary>How memory search ranks (fusion, time questions, diversity); validated when the client is created.</summary>
    public Memory.Search.HybridSearchOptions MemorySearch { get; set; } = new();

    /// <summary>How ContextWeaver picks memories.</summary>
    public ContextWeaverOptions ContextWeaver { get; set; } = new();

    /// <summary>Source of time. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Largest session export <see cref="VoxonClient.ImportSessionAsync(string, IReadOnlyDictionary{string, string}?, bool, CancellationToken)"/> accepts, in bytes. Default 64 MiB.</summary>
    public long MaxImportSize { get; set; } = 64L * 1024 * 1024;

    /// <summary>Most stored sessions one user may have; creating another throws <see cref="Retention.SessionLimitException"/>.
    /// Default null (no limit).</summary>
    public int? MaxSessionsPerUser { get; set; }

    /// <summary>How long an open session may go without activity (a turn, a memory or preference call, a save...) before
    /// it is saved and closed, freeing what it holds; a turn in flight is never cut, and its end restarts the clock. A
    /// later call on the closed <see cref="Sessions.Session"/> throws <see cref="Sessions.SessionStateException"/> naming the
    /// timeout: load the session again to continue. Timed by <see cref="TimeProvider"/>. Default null (no timeout).</summary>
    public TimeSpan? SessionTimeout { get; set; }

    /// <summary>Lifetimes of memory categories (<c>memory_ttl</c>), for example <c>["symptoms"] = 30 days</c>: an entry of a
    /// listed category expires that long after it was stored (or at its own expiry, if earlier), is never returned by
    /// search, context or listings after that, and is removed from storage by the next save. Categories match exactly.
    /// Default empty (no category expires).</summary>
    public IDictionary<string, TimeSpan> MemoryTtl { get; } = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);

    /// <summary>Logging. Default none.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Checks every option and throws one exception listing all problems.</summary>
    /// <exception cref="VoxonConfigurationException">An option is invalid.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (Storage is null)
        {
            ValidateStorage(errors);
        }
        else if (!Storage.IsEncrypted && EncryptionKey() is not null)
        {
            // Storing plaintext while a key is configured would be a silent downgrade.
            errors.Add($"session_encryption_key{(SessionEncryptionKey is null ? $" (from {Voxon.Storage.SessionEncryption.KeyVariable})" : string.Empty)} is set, but the storage object "
                + $"given in Storage ({Storage.BackendName}) does not encrypt: build it with the encryption (FileSessionStorage(folder, encryption), PostgresStorageOptions.Encryption, "
                + "RedisStorageOptions.Encryption), or configure the backend by name instead of passing an object");
        }

        if (!string.Equals(SessionEncryptionMethod, Voxon.Storage.SessionEncryption.Aes256, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"session_encryption_method must be AES256, got '{SessionEncryptionMethod}'");
        }

        if (StorageRetryAttempts is < 1 or > 10 || StorageRetryDelay < TimeSpan.Zero)
        {
            errors.Add("storage_retry_attempts must be 1 to 10 and storage_retry_delay not negative");
        }

        if (ContextWeaver.TopK <= 0)
        {
            errors.Add("context_weaver.top_k must be positive");
        }

        if (ContextWeaver.MinScore is < 0 or > 1 || ContextWeaver.BranchPenalty is < 0 or > 1)
        {
            errors.Add("context_weaver.min_score and branch_penalty must be between 0 and 1");
        }

        if (Realtime is not null)
        {
            try
            {
                Realtime.Validate();
            }
            catch (VoxonConfigurationException ex)
            {
                errors.AddRange(ex.Errors);
            }
        }

        try
        {
            MemorySearch.Validate();
        }
        catch (ArgumentException ex)
        {
            errors.Add("memory_search: " + ex.Message);
        }

        if (MaxSessionsPerUser is <= 0)
        {
            errors.Add("max_sessions_per_user must be positive when set");
        }

        // A TimeProvider timer takes at most about 49 days (uint milliseconds).
        if (SessionTimeout is { } timeout && (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromDays(49)))
        {
            errors.Add($"session_timeout must be positive and at most 49 days when set, got {timeout}");
        }

        errors.AddRange(Retention.MemoryTtlPolicy.Problems(MemoryTtl));

        if (MaxImportSize <= 0)
        {
            errors.Add("max_import_size must be positive");
        }

        if (errors.Count > 0)
        {
            throw new VoxonConfigurationException("Voxon options", errors);
        }
    }

    /// <summary>The encryption the built-in backends use (from the key options or the environment), or null for none.</summary>
    public Voxon.Storage.SessionEncryption? CreateEncryption()
    {
        var key = EncryptionKey();
        var previous = SessionEncryptionPreviousKeys.Count > 0 || !UseEnvironment
            ? SessionEncryptionPreviousKeys
            : (Environment.GetEnvironmentVariable(PreviousKeysVariable) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return key is null ? null : Voxon.Storage.SessionEncryption.FromKey(key, previous);
    }

    private string? EncryptionKey()
    {
        var key = SessionEncryptionKey ?? (UseEnvironment ? Environment.GetEnvironmentVariable(Voxon.Storage.SessionEncryption.KeyVariable) : null);
        return string.IsNullOrWhiteSpace(key) ? null : key;
    }

    private void ValidateStorage(List<string> errors)
    {
        switch (SessionStorage)
        {
            case "file":
                if (string.IsNullOrWhiteSpace(SessionStoragePath))
                {
                    errors.Add("session_storage_path must not be empty for file storage");
                }

                return;
            case "database" when string.IsNullOrWhiteSpace(SessionDatabaseUrl):
                errors.Add("session_database_url must be set for database storage (postgresql://user:pass@host:port/db)");
                break;
            case "redis" when string.IsNullOrWhiteSpace(SessionRedisUrl):
                errors.Add("session_redis_url must be set for redis storage (redis://host:port)");
                break;
        }

        if (SessionStorage is null || !Voxon.Storage.SessionStorageProviders.IsRegistered(SessionStorage))
        {
            errors.Add(Voxon.Storage.SessionStorageProviders.PackageOf(SessionStorage ?? string.Empty) is { } package
                ? $"session_storage '{SessionStorage}' needs the {package} package: reference it (or call options.{(package.EndsWith("Redis", StringComparison.Ordinal) ? "UseRedis" : "UsePostgres")}(url))"
                : $"session_storage must be file, database, redis or a registered backend, got '{SessionStorage}'");
        }
    }
}
