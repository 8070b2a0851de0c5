using Voxon.Conversations;
using Voxon.Engine;
using Voxon.Storage;

namespace Voxon.Sessions;

public sealed partial class Session
{
    /// <summary>The stored form of the session. Caller holds the lock.</summary>
    private SessionDocument ToDocument(DateTimeOffset now)
    {
        var document = HeadDocument(now, null);
        document.Conversations = [.. _conversationOrder.Select(c => ConversationDocumentOf(c, now, withTurns: true))];

        // Ephemeral memories are never written (ARCHITECTURE.md, memory modes).
        var persisted = Config.MemoryMode == MemoryMode.Ephemeral
            ? []
            : _memory.All.Where(e => !e.Transient).OrderBy(e => e.CreatedAt).ToList();
        document.Memory.Entries = persisted;
        document.Memory.TokenCount = persisted.Where(e => e.IsLive(now)).Sum(e => e.TokenCount);
        return document;
    }

    /// <summary>The session without memory entries and conversations: what every save writes, incremental or full.
    /// Session-level state added to the document belongs here (ToDocument adds only memory and conversations).
    /// Caller holds the lock.</summary>
    /// <param name="now">The time of the save.</param>
    /// <param name="storedAnalytics">The stored analytics, while a lazy load has not loaded the transcripts.</param>
    private SessionDocument HeadDocument(DateTimeOffset now, SessionAnalyticsDocument? storedAnalytics)
    {
        var total = _conversationOrder.Sum(c => c.DurationSeconds(now));
        var count = _conversationOrder.Count;
        var document = new SessionDocument
        {
            SessionId = SessionId,
            UserId = UserId,
            CreatedAt = CreatedAt,
            UpdatedAt = UpdatedAt,
            Version = NextVersion(),
            Config = Config.Clone(),
            Analytics = new SessionAnalyticsDocument
            {
                ConversationCount = count,
                MessageCount = storedAnalytics?.MessageCount ?? _conversationOrder.Sum(c => c.TurnCountLoaded),
                TotalDurationSeconds = total,
                AvgDurationSeconds = count == 0 ? 0 : total / count,
            },
            Preferences = new Dictionary<string, string>(_preferences, StringComparer.Ordinal),
            Memory = new MemoryDocument { MaxTokens = Config.MaxMemorySize },
            Template = TemplateBinding(),
        };
        WriteInsights(document);
        return document;
    }

    /// <summary>The version the next save creates.</summary>
    /// <exception cref="SessionStateException">The session is at <see cref="SessionDocument.MaxVersion"/> (only a damaged store holds that).</exception>
    private long NextVersion() => Version < SessionDocument.MaxVersion
        ? Version + 1
        : throw new SessionStateException($"Session '{SessionId}' is at version {Version}, the highest a session can have; it cannot be saved again.");

    private static ConversationDocument ConversationDocumentOf(ConversationState c, DateTimeOffset now, bool withTurns) => new()
    {
        ConversationId = c.Id,
        ParentId = c.ParentId,
        BranchPoint = c.BranchPoint,
        StartedAt = c.StartedAt,
        EndedAt = c.EndedAt,
        LastActivityAt = c.LastActivityAt,
        DurationSeconds = c.DurationSeconds(now),
        InjectionCount = c.InjectionCount,
        Turns = withTurns ? [.. c.Turns] : [],
    };

    /// <summary>Rebuilds a session from storage; entries must already carry their embeddings.</summary>
    internal static Session FromDocument(VoxonRuntime runtime, SessionDocument document)
    {
        var config = document.Config.Clone();
        config.SessionId = document.SessionId;
        config.UserId = document.UserId;
        var session = new Session(runtime, config, document.CreatedAt)
        {
            UpdatedAt = document.UpdatedAt,
            _version = document.Version,
        };
        session._memory.LoadStored(document.Memory.Entries);
        session.RestoreTemplate(document.Template);
        session.RestoreInsights(document);
        foreach (var (key, value) in document.Preferences)
        {
            session._preferences[key] = value;
        }

        foreach (var c in document.Conversations)
        {
            // A conversation open at the last save was interrupted; it is resumable, not open.
            var state = new ConversationState
            {
                Id = c.ConversationId,
                ParentId = c.ParentId,
                BranchPoint = c.BranchPoint,
                StartedAt = c.StartedAt,
                EndedAt = c.EndedAt ?? c.LastActivityAt,
                LastActivityAt = c.LastActivityAt,
                OpenedAt = c.StartedAt,
                ActiveSeconds = c.DurationSeconds,
                InjectionCount = c.InjectionCount,
                Turns = [.. c.Turns],
            };
            session._conversations.Add(state.Id, state);
            session._conversationOrder.Add(state);
        }

        session.MarkLoaded();
        session._memory.ReturnChanges(document.Memory.ReembeddedIds);
        session.DropExpired(runtime.Time.GetUtcNow()); // what expired while stored (category lifetimes too): removed by the next save
        return session;
    }

    /// <summary>The turns a conversation's engine call carries: its latest <see cref="VoxEngine.MaxHistoryMessages"/>,
    /// all the model is shown, where a branch continues its parent's turns up to the branch point. Only those are copied,
    /// so a turn costs the same however long the conversation (the whole transcript was copied every turn: 29 KB a turn
    /// at 3,000 turns).</summary>
    private List<ConversationTurn> HistoryOf(ConversationState state)
    {
        var pieces = new List<(List<ConversationTurn> Turns, int From, int To)>();
        var wanted = VoxEngine.MaxHistoryMessages;
        var take = state.Turns.Count;
        for (var current = state; current is not null && wanted > 0;)
        {
            var to = Math.Min(take, current.Turns.Count);
            var from = Math.Max(0, to - wanted);
            pieces.Add((current.Turns, from, to));
            wanted -= to - from;
            take = current.BranchPoint;
            current = current.ParentId is null ? null : _conversations[current.ParentId];
        }

        var history = new List<ConversationTurn>(VoxEngine.MaxHistoryMessages - wanted);
        for (var i = pieces.Count - 1; i >= 0; i--)
        {
            var (turns, from, to) = pieces[i];
            for (var t = from; t < to; t++)
            {
                history.Add(turns[t]);
            }
        }

        return history;
    }

    /// <summary>Whether <paramref name="ancestorId"/> is <paramref name="state"/> or one of its ancestors.</summary>
    private bool IsSelfOrAncestor(string ancestorId, ConversationState state)
    {
        for (var current = state; current is not null; current = current.ParentId is null ? null : _conversations[current.ParentId])
        {
            if (current.Id == ancestorId)
            {
                return true;
            }
        }

        return false;
    }
}
