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

    /// <summary>A storage object (custom subclass or a configured backend); when set it wins over <see cref="SessionStorage"/>.</summary>
    public SessionStorage? Storage { get; set; }

    /// <summary>The model; when null, <see cref="Model"/> or the environment (<c>VOXON_MODEL_ENDPOINT</c>...) is used, else the offline engine.</summary>
    public IChatClient? ChatClient { get; set; }

    /// <summary>An OpenAI-compatible endpoint to use when <see cref="ChatClient"/> is null.</summary>
    public ModelOptions? Model { get; set; }

    /// <summary>Whether the environment variables may configure a model when neither <see cref="ChatClient"/> nor <see cref="Model"/> is set. Default true.</summary>
    public bool UseEnvironment { get; set; } = true;

    /// <summary>Whether a configured model (not the offline engine) extracts memories from each user message, with the
    /// offline rules as fallback. One extra model call per turn. Default true.</summary>
    public bool ModelMemoryExtraction { get; set; } = true;

    /// <summary>Embedding model for memory search; default the local all-MiniLM-L6-v2.</summary>
    public IEmbeddingGenerator<string, Embedding<float>>? EmbeddingGenerator { get; set; }

    /// <summary>How ContextWeaver picks memories.</summary>
    public ContextWeaverOptions ContextWeaver { get; set; } = new();

    /// <summary>Source of time. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Largest session export <see cref="VoxonClient.ImportSessionAsync(string, IReadOnlyDictionary{string, string}?, bool, CancellationToken)"/> accepts, in bytes. Default 64 MiB.</summary>
    public long MaxImportSize { get; set; } = 64L * 1024 * 1024;

    /// <summary>Logging. Default none.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Checks every option and throws one exception listing all problems.</summary>
    /// <exception cref="VoxonConfigurationException">An option is invalid.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (Storage is null)
        {
            switch (SessionStorage)
            {
                case "file":
                    if (string.IsNullOrWhiteSpace(SessionStoragePath))
                    {
                        errors.Add("session_storage_path must not be empty for file storage");
                    }

                    break;
                case "database":
                case "redis":
                    errors.Add($"session_storage '{SessionStorage}' needs its backend package: set Storage to the backend it provides");
                    break;
                default:
                    errors.Add($"session_storage must be file, database or redis, got '{SessionStorage}'");
                    break;
            }
        }

        if (ContextWeaver.TopK <= 0)
        {
            errors.Add("context_weaver.top_k must be positive");
        }

        if (ContextWeaver.MinScore is < 0 or > 1 || ContextWeaver.BranchPenalty is < 0 or > 1)
        {
            errors.Add("context_weaver.min_score and branch_penalty must be between 0 and 1");
        }

        if (MaxImportSize <= 0)
        {
            errors.Add("max_import_size must be positive");
        }

        if (errors.Count > 0)
        {
            throw new VoxonConfigurationException("Voxon options", errors);
        }
    }
}
