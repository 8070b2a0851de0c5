using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Voxon.Context;
using Voxon.Engine;
using Voxon.Events;
using Voxon.Memory;
using Voxon.Memory.Search;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon;

/// <summary>
/// The entry point (the spec's <c>Voxon</c>): creates, loads and lists sessions over the configured storage,
/// model and embedding model. One instance serves many sessions; create it once per process.
/// </summary>
/// <remarks>Named <c>VoxonClient</c> because a C# type cannot share its namespace's name without ambiguity. Thread-safe.</remarks>
public sealed partial class VoxonClient : IAsyncDisposable
{
    private readonly VoxonRuntime _runtime;
    private readonly ILogger _logger;
    private readonly bool _ownsChatClient;

    /// <summary>Creates the client; with no options, file storage in <c>./sessions</c>, the model from the environment
    /// or the offline engine, and the local embedding model.</summary>
    /// <exception cref="VoxonConfigurationException">An option is invalid.</exception>
    public VoxonClient(VoxonOptions? options = null)
    {
        Options = options ?? new VoxonOptions();
        Options.Validate();
        var loggers = Options.LoggerFactory ?? NullLoggerFactory.Instance;
        _logger = loggers.CreateLogger<VoxonClient>();
        var storage = Options.Storage ?? new RetryingSessionStorage(
            SessionStorageProviders.Create(Options), Options.StorageRetryAttempts, Options.StorageRetryDelay, Options.TimeProvider);
        var model = Options.Model ?? (Options.UseEnvironment ? ModelOptions.FromEnvironment() : null);
        IChatClient chat;
        if (Options.ChatClient is not null)
        {
            chat = Options.ChatClient;
        }
        else if (model is not null)
        {
            chat = model.CreateChatClient();
            _ownsChatClient = true;
        }
        else
        {
            chat = new OfflineChatClient();
            _ownsChatClient = true;
        }

        storage.RecordSkipped += OnRecordSkipped;
        _runtime = new VoxonRuntime(
            storage,
            new VoxEngine(chat, loggers.CreateLogger<VoxEngine>()),
            new ContextWeaver(Options.ContextWeaver),
            Options.EmbeddingGenerator ?? ArcticXsEmbeddingGenerator.Shared,
            Options.TimeProvider,
            loggers)
        {
            SearchOptions = Options.MemorySearch,
            MemoryTtl = new Retention.MemoryTtlPolicy(Options.MemoryTtl),
            SessionTimeout = Options.SessionTimeout,
            Extractor = Options.ModelMemoryExtraction && !OfflineChatClient.IsOffline(chat)
                ? new ChatMemoryExtractor(chat, loggers.CreateLogger<ChatMemoryExtractor>())
                : null,
            InsightAnalyzer = OfflineChatClient.IsOffline(chat) ? null : new Analytics.ChatInsightAnalyzer(chat, loggers.CreateLogger<Analytics.ChatInsightAnalyzer>()),
            Realtime = Options.Realtime ?? (Options.UseEnvironment ? Engine.Realtime.RealtimeOptions.FromEnvironment() : null),
            Tools = [.. Options.Tools],
        };
    }

    /// <summary>The options in force.</summary>
    public VoxonOptions Options { get; }

    /// <summary>
    /// Does, on a background thread, what the first turn in a process would otherwise wait for: loads the local
    /// embedding models (about a second) and the tokenizer, then plays a short conversation on a throwaway session so
    /// that the turn path is compiled (<see cref="Turns.TurnRehearsal"/>: never saved, answered offline, not logged,
    /// counted or traced). Call it at startup, as the server does, so the first call's first turn is as quick as the
    /// others. A remote embedding generator is not called (and nothing is rehearsed with one). It also logs a warning
    /// when the storage would not keep acknowledged saves through a crash (PostgreSQL with fsync or synchronous_commit
    /// off, a Redis primary without an append-only file or fsyncing it less than always).
    /// </summary>
    /// <param name="cancellationToken">Cancels the warm-up.</param>
    public Task WarmUpAsync(CancellationToken cancellationToken = default) => Task.Run(
        async () =>
        {
            var started = _runtime.Time.GetTimestamp();
            if (await _runtime.Storage.DurabilityWarningAsync(cancellationToken) is { } durability)
            {
                _logger.LogWarning("{Warning}", durability);
            }

            _runtime.WarmUp();
            if (!_runtime.EmbedsLocally)
            {
                _logger.LogInformation("Warmed up in {Milliseconds:F0} ms: tokenizer loaded; no turn rehearsed, as that would call the embedding generator, which is not Voxon's local one.", _runtime.Time.GetElapsedTime(started).TotalMilliseconds);
                return;
            }

            await Turns.TurnRehearsal.RunAsync(_runtime, cancellationToken);
            _logger.LogInformation("Warmed up in {Milliseconds:F0} ms: embedding models and tokenizer loaded, turn path compiled by a rehearsed conversation.", _runtime.Time.GetElapsedTime(started).TotalMilliseconds);
        },
        cancellationToken);

    /// <summary>The storage backend in use.</summary>
    public SessionStorage Storage => _runtime.Storage;

    /// <summary>The services the client shares with its sessions (for tests and benchmarks that build sessions directly).</summary>
    internal VoxonRuntime Runtime => _runtime;

    /// <summary>The model that answers turns (the offline engine when none is configured).</summary>
    public IChatClient ChatClient => _runtime.Engine.ChatClient;

    /// <summary>The realtime speech settings voice conversations use (from <see cref="VoxonOptions.Realtime"/> or the
    /// environment); null when none are configured, and voice conversations cannot start.</summary>
    public Engine.Realtime.RealtimeOptions? Realtime => _runtime.Realtime;

    /// <summary>Creates a session for <paramref name="userId"/> from <paramref name="config"/> or a preset
    /// (<see cref="SessionPresets"/>); the default config when null. Not stored until saved.</summary>
    /// <exception cref="ArgumentException">The user id breaks the id rules.</exception>
    /// <exception cref="VoxonConfigurationException">The config is invalid; the message lists every problem.</exception>
    /// <exception cref="Retention.SessionLimitException">The user already has <see cref="VoxonOptions.MaxSessionsPerUser"/> stored sessions.</exception>
    public async Task<Session> CreateSessionAsync(string userId, SessionConfig? config = null, CancellationToken cancellationToken = default)
    {
        SessionIds.Validate(userId, "user id");
        cancellationToken.ThrowIfCancellationRequested();
        var effective = (config ?? new SessionConfig()).Clone();
        effective.UserId = userId;
        effective.Validate();
        await EnforceSessionLimitAsync(userId, cancellationToken);
        var session = new Session(_runtime, effective, _runtime.Time.GetUtcNow());
        session.Events.Raise(new SessionEvent(SessionEventNames.SessionCreated, session.SessionId, session.CreatedAt, effective.Clone()));
        _logger.LogInformation("Created session {SessionId} for user {UserId}.", session.SessionId, userId);
        return session;
    }

    /// <summary>Loads a stored session with its memory and conversations.</summary>
    /// <exception cref="ArgumentException">The id breaks the id rules (e.g. a path).</exception>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    /// <exception cref="SessionCorruptException">The stored session is unreadable; nothing was loaded.</exception>
    public Task<Session> LoadSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        LoadSessionAsync(sessionId, lazyLoad: false, cancellationToken);

    /// <summary>Loads a stored session; with <paramref name="lazyLoad"/>, only its metadata and conversation list:
    /// memory and transcripts load on first use (the spec's <c>lazy_load=True</c>).</summary>
    /// <remarks>The first member that needs memory or a transcript of a lazily loaded session blocks while it loads.
    /// Starting or resuming a conversation starts that load on the thread pool (and then the search index), so a call
    /// can start talking at once and its first turn finds memory loaded.</remarks>
    /// <inheritdoc cref="LoadSessionAsync(string, CancellationToken)" path="/exception"/>
    public async Task<Session> LoadSessionAsync(string sessionId, bool lazyLoad, CancellationToken cancellationToken = default)
    {
        SessionIds.Validate(sessionId);
        Session session;
        if (lazyLoad)
        {
            var metadata = await _runtime.Storage.LoadMetadataAsync(sessionId, cancellationToken)
                ?? throw new SessionNotFoundException(sessionId, _runtime.Storage.BackendName);
            session = Session.FromDocument(_runtime, metadata);
            session.LoadContentLazily(metadata, () => LoadDocumentAsync(sessionId, CancellationToken.None).GetAwaiter().GetResult());
        }
        else
        {
            session = Session.FromDocument(_runtime, await LoadDocumentAsync(sessionId, cancellationToken));
        }

        session.Events.Raise(new SessionEvent(SessionEventNames.SessionLoaded, sessionId, _runtime.Time.GetUtcNow(), sessionId));
        return session;
    }

    private async Task<SessionDocument> LoadDocumentAsync(string sessionId, CancellationToken cancellationToken)
    {
        var document = await _runtime.Storage.LoadAsync(sessionId, cancellationToken)
            ?? throw new SessionNotFoundException(sessionId, _runtime.Storage.BackendName);
        await EnsureEmbeddingsAsync(document, cancellationToken);
        return document;
    }

    /// <summary>Lists stored sessions, all or one user's, most recently updated first.</summary>
    public Task<IReadOnlyList<SessionSummary>> ListSessionsAsync(string? userId = null, CancellationToken cancellationToken = default) =>
        _runtime.Storage.ListAsync(userId, cancellationToken);

    /// <summary>Restores the last consistent version of a session whose stored data is damaged (its load throws
    /// <see cref="SessionCorruptException"/>); the damaged data is kept aside, and an intact session is left alone.
    /// What was saved after the restored version is lost: run it only after deciding so (<c>voxon sessions repair ID</c>).</summary>
    /// <exception cref="SessionNotFoundException">No session has that id.</exception>
    /// <exception cref="SessionCorruptException">Nothing consistent is left to restore.</exception>
    /// <exception cref="NotSupportedException">The storage backend cannot repair sessions.</exception>
    public async Task<SessionRepair> RepairSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        SessionIds.Validate(sessionId);
        var repair = await _runtime.Storage.RepairAsync(sessionId, cancellationToken)
            ?? throw new SessionNotFoundException(sessionId, _runtime.Storage.BackendName);
        if (repair.Repaired)
        {
            _logger.LogWarning("Session {SessionId} was restored to version {Version} (version {Acknowledged} had been saved): {Problem}", sessionId, repair.Version, repair.AcknowledgedVersion, repair.Problem);
        }

        return repair;
    }

    /// <summary>Deletes a stored session; false when there was none.</summary>
    public Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        SessionIds.Validate(sessionId);
        return _runtime.Storage.DeleteAsync(sessionId, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _runtime.Storage.RecordSkipped -= OnRecordSkipped;
        if (_ownsChatClient)
        {
            _runtime.Engine.ChatClient.Dispose();
        }

        if (Options.Storage is null)
        {
            await _runtime.Storage.DisposeAsync();
        }
    }

    private void OnRecordSkipped(object? sender, SessionCorruptException problem) =>
        _logger.LogWarning(problem, "A listing skipped an unreadable record: {Problem}", problem.Message);

    /// <summary>
    /// Entries stored without an embedding, or with one that does not serve the client's model
    /// (<see cref="VoxonRuntime.KeepsVector"/>), get one now, once (the next save stores it).
    /// </summary>
    private async Task EnsureEmbeddingsAsync(SessionDocument document, CancellationToken cancellationToken)
    {
        var model = _runtime.EmbeddingModelId;
        if (document.Memory.Entries.Find(e => !e.Embedding.IsEmpty) is { } sample)
        {
            await _runtime.DimensionsAsync(sample.Content, cancellationToken); // known at once unless the generator does not say
        }

        var missing = document.Memory.Entries
            .Select((entry, index) => (entry, index))
            .Where(x => !_runtime.KeepsVector(x.entry))
            .ToList();
        if (missing.Count == 0)
        {
            return;
        }

        var vectors = await _runtime.EmbedAsync([.. missing.Select(x => x.entry.Content)], cancellationToken);
        for (var i = 0; i < missing.Count; i++)
        {
            document.Memory.Entries[missing[i].index] = missing[i].entry with { Embedding = vectors[i], EmbeddingModel = model };
        }

        document.Memory.ReembeddedIds = [.. missing.Select(x => x.entry.Id)];
    }
}
