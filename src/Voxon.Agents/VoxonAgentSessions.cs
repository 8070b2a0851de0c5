using System.Collections.Concurrent;
using Microsoft.Agents.AI;
using Voxon.Conversations;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Agents;

/// <summary>
/// Binds agent sessions to Voxon: an <see cref="AgentSession"/> without Voxon state gets a new conversation in the
/// user's Voxon session; one with state (also after serialization, or in another process) resumes that conversation.
/// Loaded Voxon sessions are shared by every agent session of the user, so they see one memory.
/// </summary>
internal sealed class VoxonAgentSessions
{
    private readonly VoxonClient _voxon;
    private readonly string _userId;
    private readonly VoxonAgentOptions _options;
    private readonly ProviderSessionState<VoxonAgentState> _state;
    private readonly ConcurrentDictionary<string, Lazy<Task<Session>>> _loaded = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _userSessionGate = new(1, 1);
    private string? _userSessionId;

    public VoxonAgentSessions(VoxonClient voxon, string userId, VoxonAgentOptions options)
    {
        _voxon = voxon;
        _userId = userId;
        _options = options;
        _userSessionId = options.SessionId;
        _state = new ProviderSessionState<VoxonAgentState>(_ => new VoxonAgentState(), options.StateKey, VoxonAgentsJsonContext.Default.Options);
    }

    public string StateKey => _state.StateKey;

    /// <summary>The Voxon conversation of <paramref name="agentSession"/>, started or resumed.</summary>
    /// <exception cref="InvalidOperationException">No agent session, or its Voxon session belongs to another user.</exception>
    /// <exception cref="SessionNotFoundException">The agent session names a Voxon session that is not stored.</exception>
    /// <exception cref="VoxonStorageException">Storage failed while loading or creating the session.</exception>
    public async Task<Conversation> ConversationAsync(AgentSession? agentSession, CancellationToken cancellationToken)
    {
        if (agentSession is null)
        {
            throw new InvalidOperationException("Voxon memory needs an AgentSession: run the agent with a session from agent.CreateSessionAsync().");
        }

        var state = _state.GetOrInitializeState(agentSession);
        if (state.SessionId is null || state.ConversationId is null)
        {
            var session = await UserSessionAsync(cancellationToken);
            var conversation = await session.StartConversationAsync(cancellationToken: cancellationToken);
            state.SessionId = session.SessionId;
            state.ConversationId = conversation.ConversationId;
            _state.SaveState(agentSession, state);
            return conversation;
        }

        var stored = await LoadAsync(SessionIds.Validate(state.SessionId), cancellationToken);
        return await stored.ResumeConversationAsync(state.ConversationId, cancellationToken);
    }

    /// <summary>The session new agent sessions of the user go into: the configured one, the user's most recently
    /// updated one, or a new one, saved at once so that other processes find the same.</summary>
    private async Task<Session> UserSessionAsync(CancellationToken cancellationToken)
    {
        await _userSessionGate.WaitAsync(cancellationToken);
        try
        {
            if (_userSessionId is null)
            {
                var existing = await _voxon.ListSessionsAsync(_userId, cancellationToken);
                _userSessionId = existing.OrderByDescending(s => s.UpdatedAt).FirstOrDefault()?.SessionId;
            }

            if (_userSessionId is not null)
            {
                return await LoadAsync(_userSessionId, cancellationToken);
            }

            var created = await _voxon.CreateSessionAsync(_userId, _options.SessionConfig, cancellationToken);
            await created.SaveAsync(cancellationToken);
            _loaded[created.SessionId] = new Lazy<Task<Session>>(Task.FromResult(created));
            _userSessionId = created.SessionId;
            return created;
        }
        finally
        {
            _userSessionGate.Release();
        }
    }

    private async Task<Session> LoadAsync(string sessionId, CancellationToken cancellationToken)
    {
        while (true)
        {
            var entry = _loaded.GetOrAdd(sessionId, id => new Lazy<Task<Session>>(() => _voxon.LoadSessionAsync(id, CancellationToken.None)));
            Session session;
            try
            {
                session = await entry.Value.WaitAsync(cancellationToken);
            }
            catch when (entry.Value.IsFaulted)
            {
                // A failed load (storage down, corrupt record) is not cached: the next turn tries again.
                _loaded.TryRemove(KeyValuePair.Create(sessionId, entry));
                throw;
            }

            if (!session.IsActive)
            {
                // Closed by its owner since it was loaded: load it afresh.
                _loaded.TryRemove(KeyValuePair.Create(sessionId, entry));
                continue;
            }

            if (!string.Equals(session.UserId, _userId, StringComparison.Ordinal))
            {
                throw new InvalidOperationException(
                    $"The agent session continues Voxon session '{sessionId}' of another user; this provider serves user '{_userId}'.");
            }

            return session;
        }
    }
}
