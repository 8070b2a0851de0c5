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
    private readonly Dictionary<string, ConversationState> _conversations = new(StringComparer.Ordinal);
    private readonly List<ConversationState> _conversationOrder = [];
    private readonly Dictionary<string, Conversation> _open = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _preferences = new(StringComparer.Ordinal);
    private long _version;
    private bool _closed;

    internal Session(VoxonRuntime runtime, SessionConfig config, DateTimeOffset createdAt)
    {
        _runtime = runtime;
        _logger = runtime.LoggerFactory.CreateLogger<Session>();
        Config = config;
        UserId = config.UserId!;
        CreatedAt = createdAt;
        UpdatedAt = createdAt;
        _memory = new MemoryStore(config.MaxMemorySize);
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
        }

        Raise(SessionEventNames.ConversationStarted, info);
        return Task.FromResult(conversation);
    }

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
        }

        Raise(SessionEventNames.ConversationResumed, info);
        return Task.FromResult(conversation);
    }

    /// <summary>Writes what changed since the last save to storage (atomically; a crash leaves the previous version
    /// loadable). Inside <see cref="BatchUpdate"/> the save is deferred to the end of the batch.</summary>
    /// <exception cref="SessionConcurrencyException">Another process saved this session since it was loaded; load it again.</exception>
    /// <exception cref="SessionStateException">The session is closed.</exception>
    /// <exception cref="VoxonStorageException">The backend failed.</exception>
    public async Task SaveAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ThrowIfClosed();
        }

        if (DeferSaveToBatch())
        {
            return;
        }

        await _saveGate.WaitAsync(cancellationToken);
        try
        {
            SessionChangeSet changes;
            SaveTracking tracking;
            lock (_gate)
            {
                ThrowIfClosed();
                (changes, tracking) = BeginSave(_runtime.Time.GetUtcNow());
            }

            var stored = false;
            try
            {
                await _runtime.Storage.SaveChangesAsync(changes, cancellationToken);
                stored = true;
            }
            finally
            {
                EndSave(tracking, changes.Version, stored);
            }

            Raise(SessionEventNames.SessionSaved, changes.Version);
        }
        catch (VoxonStorageException ex)
        {
            Diagnostics.VoxonTelemetry.Errors.Add(1);
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
    public Task CloseAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        List<Conversation> open;
        lock (_gate)
        {
            if (_closed)
            {
                return Task.CompletedTask;
            }

            open = [.. _open.Values];
        }

        foreach (var conversation in open)
        {
            EndConversation(conversation.State);
        }

        lock (_gate)
        {
            _closed = true;
        }

        Raise(SessionEventNames.SessionClosed, null);
        return Task.CompletedTask;
    }

    /// <summary>Saves (when still open) and closes the session.</summary>
    public async ValueTask DisposeAsync()
    {
        if (IsActive)
        {
            await SaveAsync();
            await CloseAsync();
        }

        // _saveGate is not disposed: it never allocates a wait handle, and a late SaveAsync must fail with
        // SessionStateException rather than ObjectDisposedException.
    }

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
            throw new SessionStateException($"Session '{SessionId}' is closed; load it again with LoadSessionAsync(\"{SessionId}\") to continue.");
        }
    }

    private void Raise(string type, object? data) =>
        Events.Raise(new SessionEvent(type, SessionId, _runtime.Time.GetUtcNow(), data));
}
