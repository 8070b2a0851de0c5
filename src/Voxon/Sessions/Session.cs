using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Voxon.Conversations;
using Voxon.Events;
using Voxon.Memory;
using Voxon.Storage;
using Voxon.Turns;

namespace Voxon.Sessions;

/// <summary>
/// One user's session: its configuration, conversations, memory and preferences. Created by
/// <see cref="VoxonClient.CreateSessionAsync(string, SessionConfig?, CancellationToken)"/> or
/// loaded with <see cref="VoxonClient.LoadSessionAsync(string, CancellationToken)"/>. <c>await using</c> saves and closes it.
/// </summary>
/// <remarks>Thread-safe: members may be called from several threads; turns of one conversation run one at a time.
/// Nothing is written to storage except by <see cref="SaveAsync"/> (or disposal).</remarks>
public sealed partial class Session : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _saveGate = new(1, 1);
    private readonly VoxonRuntime _runtime;
    private readonly ILogger _logger;
    private readonly MemoryStore _memory;
    private readonly PendingEmbeddings _pendingEmbeddings;
    private readonly Dictionary<string, ConversationState> _conversations = new(StringComparer.Ordinal);
    private readonly List<ConversationState> _conversationOrder = [];
    private readonly Dictionary<string, Conversation> _open = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _preferences = new(Adaptation.PreferenceLearner.OverrideNames);
    private long _version;
    private bool _closed;
    private readonly Retention.IdleTimeout? _idle;
    private Task? _disposal;

    /// <summary>How many times one save merges notes added through shares and retries before reporting the conflict.</summary>
    private const int MaxNoteMerges = 5;

    internal Session(VoxonRuntime runtime, SessionConfig config, DateTimeOffset createdAt)
    {
        _runtime = runtime;
        _logger = runtime.LoggerFactory.CreateLogger<Session>();
        Config = config;
        UserId = config.UserId!;
        CreatedAt = createdAt;
        UpdatedAt = createdAt;
        _memory = new MemoryStore(config.MaxMemorySize, runtime.SearchOptions, runtime.MemoryTtl);
        _pendingEmbeddings = new PendingEmbeddings(runtime, _embeddings, _gate, _memory, _logger);
        _idle = runtime.SessionTimeout is { } timeout ? new Retention.IdleTimeout(this, timeout, runtime.Time, _logger) : null;
        Events = new SessionEvents(_logger);
        Events.Observed += OnEventObserved;
        Turns = new TurnPipeline(runtime, this);
    }

    /// <summary>The session id.</summary>
    public string SessionId => Config.SessionId;

    /// <summary>The user who owns the session.</summary>
    public string UserId { get; }

    /// <summary>The configuration; feature switches (learning, analytics, adaptation) may be changed at any time.</summary>
    public SessionConfig Config { get; }

    /// <summary>Whether the session is open (not closed).</summary>
    public bool IsActive
    {
        get
        {
            lock (_gate)
            {
                return !_closed;
            }
        }
    }

    /// <summary>When the session was created.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>When the session last changed.</summary>
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>The stored version this session was last saved as or loaded from (0 before the first save).</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Subscriptions to the session's events.</summary>
    public SessionEvents Events { get; }

    /// <summary>The session's conversations in the order they started.</summary>
    public IReadOnlyList<ConversationInfo> Conversations
    {
        get
        {
            lock (_gate)
            {
                return [.. _conversationOrder.Select(c => c.ToInfo())];
            }
        }
    }

    /// <summary>The transcript of a conversation of this session.</summary>
    /// <exception cref="SessionStateException">No conversation has that id.</exception>
    public IReadOnlyList<ConversationTurn> GetTranscript(string conversationId)
    {
        lock (_gate)
        {
            return [.. FindConversation(conversationId).Turns];
        }
    }

    /// <summary>Starts a conversation; with <paramref name="parentId"/>, a branch that starts with its parent's context.</summary>
    /// <param name="conversationId">Id for the conversation; a new one when null. Letters, digits, '-', '_', '.'.</param>
    /// <param name="parentId">The conversation to branch from.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="SessionStateException">The session is closed, the id is taken, or the parent does not exist.</exception>
    /// <exception cref="ArgumentException">The id breaks the id rules.</exception>
    public Task<Conversation> StartConversationAsync(string? conversationId = null, string? parentId = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (conversationId is not null)
        {
            SessionIds.Validate(conversationId, "conversation id");
        }

        Conversation conversation;
        ConversationInfo info;
        lock (_gate)
        {
            ThrowIfClosed();
            var id = conversationId ?? SessionIds.NewId("conv_");
            if (_conversations.ContainsKey(id))
            {
                throw new SessionStateException($"Session '{SessionId}' already has a conversation '{id}'; resume it with ResumeConversationAsync(\"{id}\").");
            }

            ConversationState? parent = null;
            if (parentId is not null && !_conversations.TryGetValue(parentId, out parent))
            {
                throw new SessionStateException($"Cannot branch from conversation '{parentId}': session '{SessionId}' has no such conversation.");
            }

            var now = _runtime.Time.GetUtcNow();
            var state = new ConversationState
            {
                Id = id,
                ParentId = parent?.Id,
                BranchPoint = parent?.Turns.Count ?? 0,
                StartedAt = now,
                OpenedAt = now,
                LastActivityAt = now,
            };
            _conversations.Add(id, state);
            _conversationOrder.Add(state);
            conversation = new Conversation(this, state);
            _open.Add(id, conversation);
            UpdatedAt = now;
            info = state.ToInfo();
            _memory.IndexInBackground();
        }

        Raise(SessionEventNames.ConversationStarted, info);
        return Task.FromResult(conversation);
    }

    /// <summary>Starts a spoken conversation with a realtime speech model (OpenAI Realtime protocol), configured with the
    /// session's instructions, woven memory (never sensitive entries), voice, a speed matching the user's speaking pace,
    /// server VAD, transcription and, with <see cref="SessionConfig.EnableFunctions"/>, the functions given.</summary>
    /// <exception cref="VoxonConfigurationException">No realtime endpoint is configured, or its settings are invalid.</exception>
    /// <exception cref="Engine.Realtime.RealtimeConnectionException">The endpoint could not be reached.</exception>
    /// <exception cref="SessionStateException">The session is closed or the conversation id is taken.</exception>
    public Task<VoiceConversation> StartVoiceConversationAsync(VoiceConversationOptions? options = null, CancellationToken cancellationToken = default) =>
        VoiceConversation.StartAsync(this, _runtime, options ?? new VoiceConversationOptions(), cancellationToken);

    /// <summary>Resumes a conversation with its transcript as context: the one named, or the most recently active.</summary>
    /// <exception cref="SessionStateException">The session is closed, has no conversation, or none with that id.</exception>
    public Task<Conversation> ResumeConversationAsync(string? conversationId = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Conversation conversation;
        ConversationInfo info;
        lock (_gate)
        {
            ThrowIfClosed();
            ConversationState state;
            if (conversationId is null)
            {
                state = _conversationOrder.MaxBy(c => c.LastActivityAt)
                    ?? throw new SessionStateException($"Session '{SessionId}' has no conversation to resume; start one with StartConversationAsync().");
            }
            else
            {
                state = FindConversation(conversationId);
            }

            if (_open.TryGetValue(state.Id, out var existing))
            {
                return Task.FromResult(existing);
            }

            var now = _runtime.Time.GetUtcNow();
            state.EndedAt = null;
            state.OpenedAt = now;
            conversation = new Conversation(this, state);
            _open.Add(state.Id, conversation);
            info = state.ToInfo();
            _memory.IndexInBackground();
        }

        Raise(SessionEventNames.ConversationResumed, info);
        return Task.FromResult(conversation);
    }

    /// <summary>Writes what changed since the last save to storage (atomically; a crash leaves the previous version
    /// loadable). Inside <see cref="BatchUpdate"/> the save is deferred to the end of the batch.</summary>
    /// <exception cref="SessionConcurrencyException">Another process saved this session since it was loaded; load it again.</exception>
    /// <exception cref="SessionStateException">The session is closed.</exception>
    /// <exception cref="VoxonStorageException">The backend failed.</exception>
    public Task SaveAsync(CancellationToken cancellationToken = default) => SaveCoreAsync(whenClosed: true, cancellationToken);

    /// <summary>Saves unless the session is closed (by then there is nothing left to save); for disposal paths, which
    /// must not fail because another thread closed the session between a check and the save.</summary>
    internal Task SaveIfOpenAsync(CancellationToken cancellationToken = default) => SaveCoreAsync(whenClosed: false, cancellationToken);

    private async Task SaveCoreAsync(bool whenClosed, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_closed && !whenClosed)
            {
                return;
            }

            ThrowIfClosed();
        }

        if (DeferSaveToBatch())
        {
            return;
        }

        // Facts the last turns extracted are stored with their vectors, so a load need not embed them.
        await _pendingEmbeddings.CompleteAsync(cancellationToken);

        // Handlers of the events raised here run after the save gate is released (a handler may save again).
        using var deferred = Events.Defer();
        await _saveGate.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                SessionChangeSet changes;
                SaveTracking tracking;
                lock (_gate)
                {
                    if (_closed && !whenClosed)
                    {
                        return;
                    }

                    ThrowIfClosed();
                    (changes, tracking) = BeginSave(_runtime.Time.GetUtcNow());
                }

                var stored = false;
                SessionConcurrencyException? conflict = null;
                try
                {
                    await _runtime.Storage.SaveChangesAsync(changes, cancellationToken);
                    stored = true;
                }
                catch (SessionConcurrencyException ex)
                {
                    conflict = ex;
                }
                finally
                {
                    EndSave(tracking, changes.Version, stored);
                }

                if (stored)
                {
                    Raise(SessionEventNames.SessionSaved, changes.Version);
                    return;
                }

                // Notes added through a share since our version are merged and the save retried; anything else is a conflict.
                if (attempt >= MaxNoteMerges || !await MergeSharedNotesAsync(cancellationToken))
                {
                    ExceptionDispatchInfo.Throw(conflict!);
                }
            }
        }
        catch (VoxonStorageException ex)
        {
            _runtime.Telemetry.Add(Diagnostics.VoxonTelemetry.Errors);
            _logger.LogError(ex, "Saving session {SessionId} failed.", SessionId);
            Raise(SessionEventNames.Error, ex.Message);
            throw;
        }
        finally
        {
            _saveGate.Release();
        }
    }

    /// <summary>Ends open conversations and closes the session; later calls fail with <see cref="SessionStateException"/>.
    /// Does not save: call <see cref="SaveAsync"/> first, or use <c>await using</c>, which does both.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Close(null);
        // Nothing embeds into the session once this returns: its client may dispose the model next.
        await _pendingEmbeddings.CompleteAsync(CancellationToken.None);
    }

    /// <summary>Closes the session; with <paramref name="idle"/> (the idle timeout), only when it holds and no turn or batch
    /// (whose save is deferred) is in flight, checked under the lock as the session closes, so no call slips in between.</summary>
    internal bool Close(Func<bool>? idle)
    {
        List<Conversation> open;
        lock (_gate)
        {
            if (_closed || (idle is not null && (_batchDepth > 0 || _open.Values.Any(c => c.IsBusy) || !idle())))
            {
                return false;
            }

            _closed = idle is not null; // an explicit close ends the conversations while still open, as before
            open = [.. _open.Values];
        }

        foreach (var conversation in open)
        {
            EndConversation(conversation.State);
        }

        lock (_gate)
        {
            if (_closed && idle is null)
            {
                return false;
            }

            _closed = true;
        }

        _idle?.Dispose();
        Raise(SessionEventNames.SessionClosed, idle is null ? null : "idle_timeout");
        return true;
    }

    /// <summary>Saves (when still open) and closes the session. Idempotent and thread-safe: concurrent calls share
    /// one save and close; after a failed save the session stays open and a later call tries again.</summary>
    /// <exception cref="VoxonStorageException">The save failed (every concurrent caller sees it).</exception>
    public async ValueTask DisposeAsync()
    {
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _disposal, mine.Task, null) is { } running)
        {
            await running;
            return;
        }

        try
        {
            await SaveIfOpenAsync();
            await CloseAsync();
            mine.SetResult();
        }
        catch (Exception ex)
        {
            // Not closed: the next DisposeAsync may try the save again.
            Volatile.Write(ref _disposal, null);
            mine.SetException(ex);
            _ = mine.Task.Exception; // observed here; concurrent callers awaiting it see it too
            throw;
        }

        // _saveGate is not disposed: it never allocates a wait handle, and a late SaveAsync must fail with
        // SessionStateException rather than ObjectDisposedException.
    }

    /// <summary>Whether memory's search index holds every live entry (a load leaves it to build on first use).</summary>
    internal bool SearchIndexBuilt => _memory.SearchIndexBuilt;

    internal ConversationState FindConversation(string conversationId) =>
        _conversations.TryGetValue(conversationId, out var state)
            ? state
            : throw new SessionStateException($"Session '{SessionId}' has no conversation '{conversationId}'.");

    internal bool IsOpen(ConversationState state)
    {
        lock (_gate)
        {
            return !_closed && _open.ContainsKey(state.Id) && state.EndedAt is null;
        }
    }

    /// <summary>Ends a conversation; its transient memories end with it.</summary>
    internal void EndConversation(ConversationState state)
    {
        ConversationInfo info;
        int dropped;
        lock (_gate)
        {
            if (!_open.Remove(state.Id))
            {
                return;
            }

            var now = _runtime.Time.GetUtcNow();
            state.ActiveSeconds += Math.Max(0, (now - state.OpenedAt).TotalSeconds);
            state.EndedAt = now;
            dropped = _memory.RemoveWhere(e => e.Transient && e.ConversationId == state.Id).Count;
            UpdatedAt = now;
            info = state.ToInfo();
        }

        Raise(SessionEventNames.ConversationEnded, info);
        if (dropped > 0)
        {
            Raise(SessionEventNames.MemoryCleared, dropped);
        }
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new SessionStateException(_idle?.ClosedMessage(SessionId) ?? $"Session '{SessionId}' is closed; load it again with LoadSessionAsync(\"{SessionId}\") to continue.");
        }

        _idle?.Touch();
    }

    private void Raise(string type, object? data) =>
        Events.Raise(new SessionEvent(type, SessionId, _runtime.Time.GetUtcNow(), data));
}
