using Microsoft.Extensions.Logging;
using System.Text.Json;
using System.Text.RegularExpressions;
using Voxon.Conversations;
using Voxon.Diagnostics;
using Voxon.Events;
using Voxon.Memory;
using Voxon.Security;
using Voxon.Storage;

namespace Voxon.Sessions;

public sealed partial class Session
{
    /// <summary>Longest accepted memory content, in characters.</summary>
    public const int MaxMemoryContentLength = 4_000;

    /// <summary>Longest memory lifetime accepted (stored time plus lifetime stays a valid date); null is none.</summary>
    public static readonly TimeSpan MaxMemoryLifetime = TimeSpan.FromDays(36_500);

    /// <summary>Share of max_memory_size in use, 0..1.</summary>
    public double MemoryUsage => GetMemory().Usage;

    /// <summary>Categories memories may use; null allows any (templates restrict it).</summary>
    internal IReadOnlySet<string>? AllowedMemoryCategories { get; set; }

    /// <summary>Adds a memory and returns it; it is searchable as soon as this returns.</summary>
    /// <remarks>Blocks while the embedding is computed (immediate with the local model); prefer <see cref="AddMemoryAsync"/> with a remote embedding service.</remarks>
    /// <inheritdoc cref="AddMemoryAsync" path="/param"/>
    /// <inheritdoc cref="AddMemoryAsync" path="/exception"/>
    public MemoryEntry AddMemory(string content, string category = "general", double importance = 0.5, TimeSpan? expiresAfter = null, bool sensitive = false, DateTimeOffset? occurredAt = null, string? context = null) =>
        AddMemoryAsync(content, category, importance, expiresAfter, sensitive, occurredAt, context).GetAwaiter().GetResult();

    /// <summary>Adds a memory and returns it (the existing entry when the same content is already remembered).</summary>
    /// <param name="content">The fact, one sentence.</param>
    /// <param name="category">Letters, digits, '_', '-', '.'; from the template's list when the session has one.</param>
    /// <param name="importance">0..1; entries at 1.0 are never evicted.</param>
    /// <param name="expiresAfter">Lifetime; null for none.</param>
    /// <param name="sensitive">Redact it in exports, events, debug output and model context.</param>
    /// <param name="occurredAt">When what it says happened (relative dates in it resolve against this); null for now.</param>
    /// <param name="context">Text to search it by but not show, such as the conversation turn it answers; null for none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ArgumentException">Empty or oversized content or context, a malformed or disallowed category.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Importance outside 0..1, or a non-positive lifetime.</exception>
    /// <exception cref="SessionStateException">The session is closed.</exception>
    public async Task<MemoryEntry> AddMemoryAsync(string content, string category = "general", double importance = 0.5, TimeSpan? expiresAfter = null, bool sensitive = false, DateTimeOffset? occurredAt = null, string? context = null, CancellationToken cancellationToken = default)
    {
        MemoryValidation.Validate(content, category, importance, expiresAfter, context, AllowedMemoryCategories);
        context = string.IsNullOrWhiteSpace(context) ? null : context.Trim();
        if (Config.RedactPii)
        {
            content = Redaction.RedactPii(content).Text;
            context = context is null ? null : Redaction.RedactPii(context).Text;
        }

        var embedding = await _runtime.EmbedAsync(content, _embeddings, cancellationToken);
        MemoryChange change;
        lock (_gate)
        {
            ThrowIfClosed();
            var now = _runtime.Time.GetUtcNow();
            DropExpired(now);
            var fact = new ExtractedFact(content.Trim(), category, importance, null);
            var entry = NewEntry(fact, MemorySource.Explicit, now, null, embedding) with
            {
                ExpiresAt = expiresAfter is { } ttl ? now + ttl : null,
                Sensitive = sensitive,
                OccurredAt = occurredAt ?? now,
                Context = context,
            };
            change = _memory.Add(entry, now);
            UpdatedAt = now;
        }

        RaiseMemoryChanges([change]);
        return change.Entry;
    }

    /// <summary>Completes when every memory recorded so far is also found by meaning: facts a turn extracts are stored
    /// (and found by their words) at once, and embedded in the background while the reply plays.</summary>
    /// <param name="cancellationToken">Stops the wait (not the embedding).</param>
    public Task WhenMemoryIndexedAsync(CancellationToken cancellationToken = default) => _pendingEmbeddings.CompleteAsync(cancellationToken);

    /// <summary>The live memory: entries, token count, budget.</summary>
    public SessionMemory GetMemory()
    {
        lock (_gate)
        {
            var now = _runtime.Time.GetUtcNow();
            DropExpired(now);
            return new SessionMemory([.. _memory.Live(now)], _memory.TokenCount, Config.MaxMemorySize);
        }
    }

    /// <summary>Memories relevant to <paramref name="query"/>, best first (hybrid lexical and semantic ranking).</summary>
    /// <remarks>Blocks while the query embedding is computed (immediate with the local model).</remarks>
    public IReadOnlyList<MemorySearchResult> SearchMemory(string query, int topK = 5, string? category = null, double minScore = 0) =>
        SearchMemoryAsync(query, topK, category, minScore).GetAwaiter().GetResult();

    /// <summary>Memories relevant to <paramref name="query"/>, best first (hybrid lexical and semantic ranking).</summary>
    /// <param name="query">What to look for.</param>
    /// <param name="topK">Most results, 1..1000.</param>
    /// <param name="category">Only this category when set.</param>
    /// <param name="minScore">Lowest fused score, 0..1.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<MemorySearchResult>> SearchMemoryAsync(string query, int topK = 5, string? category = null, double minScore = 0, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(topK, 1000);
        if (double.IsNaN(minScore) || minScore is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(minScore), minScore, "minScore must be between 0 and 1.");
        }

        var embedding = await _runtime.EmbedQueryAsync(query, _embeddings, cancellationToken);
        lock (_gate)
        {
            var now = _runtime.Time.GetUtcNow();
            DropExpired(now);
            return _memory.Search(query, embedding, topK, e => e.IsLive(now) && (category is null || e.Category == category), minScore, now);
        }
    }

    /// <summary>Removes the memories of <paramref name="category"/>, or all memories when null; returns how many.</summary>
    public int ClearMemory(string? category = null)
    {
        int removed;
        lock (_gate)
        {
            ThrowIfClosed();
            removed = _memory.RemoveWhere(e => category is null || e.Category == category).Count;
            UpdatedAt = _runtime.Time.GetUtcNow();
        }

        if (removed > 0)
        {
            Raise(SessionEventNames.MemoryCleared, removed);
        }

        return removed;
    }

    /// <summary>Removes the memory with id <paramref name="memoryId"/>; false when there is none.</summary>
    /// <exception cref="SessionStateException">The session is closed.</exception>
    public bool ForgetMemory(string memoryId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(memoryId);
        lock (_gate)
        {
            ThrowIfClosed();
            if (_memory.RemoveWhere(e => e.Id == memoryId).Count == 0)
            {
                return false;
            }

            UpdatedAt = _runtime.Time.GetUtcNow();
        }

        Raise(SessionEventNames.MemoryCleared, 1);
        return true;
    }

    /// <summary>The live memory as JSON in the spec's shape (<c>entries</c> with content, timestamp, importance, category; <c>token_count</c>).
    /// Sensitive entries read <c>[REDACTED]</c> unless <paramref name="includeSensitive"/>; embeddings are left out.</summary>
    public string ExportMemory(bool includeSensitive = false)
    {
        var memory = GetMemory();
        var document = new MemoryExportDocument
        {
            SessionId = SessionId,
            UserId = UserId,
            ExportedAt = _runtime.Time.GetUtcNow(),
            Entries = [.. memory.Entries.Select(e => includeSensitive ? e with { Embedding = default } : e.Redacted())],
            TokenCount = memory.TokenCount,
            MaxTokens = memory.MaxTokens,
        };
        return JsonSerializer.Serialize(document, VoxonJsonContext.Default.MemoryExportDocument);
    }

    /// <summary>Longest preference value, in characters: the style guidance carries it into every turn.</summary>
    public const int MaxPreferenceValueLength = 500;

    /// <summary>Sets a preference override (e.g. <c>formality</c> = <c>always_formal</c>); overrides win over learned values and shape the style guidance.</summary>
    /// <param name="name">Letters, digits, '_', '.', '-'; at most 64 characters.</param>
    /// <param name="value">At most <see cref="MaxPreferenceValueLength"/> characters.</param>
    /// <exception cref="ArgumentException">The name is malformed, or the value too long or cut inside a character.</exception>
    public void SetPreference(string name, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        if (Adaptation.PreferenceLearner.OverrideProblem(name, value) is { } problem)
        {
            throw new ArgumentException(problem, nameof(value));
        }

        lock (_gate)
        {
            ThrowIfClosed();
            Adaptation.PreferenceLearner.SetOverride(_preferences, name, value);
            UpdatedAt = _runtime.Time.GetUtcNow();
        }
    }

    private MemoryEntry NewEntry(ExtractedFact fact, MemorySource source, DateTimeOffset now, ConversationState? conversation, float[] embedding) => new()
    {
        Id = SessionIds.NewId("mem_"),
        Content = fact.Content,
        Category = fact.Category,
        Importance = fact.Importance,
        CreatedAt = now,
        UpdatedAt = now,
        OccurredAt = now,
        Source = source,
        Slot = fact.Slot,
        ConversationId = conversation?.Id,
        Scope = conversation?.ParentId is null ? null : conversation.Id,
        TokenCount = TokenCounter.Count(fact.Content),
        Embedding = embedding,
        EmbeddingModel = embedding.Length == 0 ? null : _runtime.EmbeddingModelId,
        Transient = Config.MemoryMode switch
        {
            MemoryMode.Ephemeral => true,
            MemoryMode.Persistent => false,
            _ => source != MemorySource.Explicit && fact.Importance < Config.HybridPersistThreshold,
        },
    };

    /// <summary>Removes expired entries. Caller holds the lock.</summary>
    private void DropExpired(DateTimeOffset now) => _memory.RemoveExpired(now);

    private void RaiseMemoryChanges(IEnumerable<MemoryChange> changes)
    {
        foreach (var change in changes)
        {
            if (change.Duplicate)
            {
                continue;
            }

            if (change.Superseded is { } previous)
            {
                Raise(SessionEventNames.MemorySuperseded, new MemorySuperseded(previous.Slot!, previous.Redacted(), change.Entry.Redacted()));
            }

            Raise(SessionEventNames.MemoryAdded, change.Entry.Redacted());
            if (change.Evicted.Count > 0)
            {
                Raise(SessionEventNames.MemoryEvicted, change.Evicted.Select(e => e.Redacted()).ToList());
            }

            if (change.OverBudget)
            {
                _logger.LogWarning("Session {SessionId} memory exceeds max_memory_size with only importance-1.0 entries left.", SessionId);
                Raise(SessionEventNames.MemoryOverBudget, _memory.TokenCount);
            }

            _runtime.Telemetry.Record(VoxonTelemetry.MemoryTokens, (long)_memory.TokenCount);
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9_.-]{1,64}$")]
    internal static partial Regex CategoryPattern();
}
