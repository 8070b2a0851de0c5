using Voxon.Context;
using Voxon.Conversations;
using Voxon.Memory;
using Voxon.Sessions;
using Voxon.Sharing;

namespace Voxon.Server.Api;

// The API's request and response shapes, kept together because each is a few lines and they only make sense as a set.
// JSON names are snake_case (the contract's "user_id", "session_id").

/// <summary>Body of <c>POST /v1/sessions</c>: a config, a preset, or a registered template with its context.</summary>
internal sealed record CreateSessionRequest(string? UserId, string? Preset, SessionConfig? Config, string? Template, Dictionary<string, string>? Context);

internal sealed record SessionCreated(string SessionId, string UserId, long Version);

internal sealed record SessionListItem(string SessionId, string UserId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int ConversationCount, int MessageCount);

internal sealed record SessionDetail(
    string SessionId, string UserId, long Version, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, SessionConfig Config,
    string? TemplateName, IReadOnlyList<ConversationInfo> Conversations, int MemoryCount, int MemoryTokens, int MaxMemoryTokens);

internal sealed record StartConversationRequest(string? ConversationId, string? ParentId);

internal sealed record ConversationStarted(string ConversationId, string? ParentId);

internal sealed record ConversationDetail(ConversationInfo Conversation, IReadOnlyList<TurnView> Turns, Analytics.ConversationAnalytics Analytics);

/// <summary>A transcript turn with the memories injected into it resolved to what they say.</summary>
internal sealed record TurnView(
    int Index, TurnRole Role, string Content, DateTimeOffset Timestamp, double? ResponseTimeMs, bool Interrupted,
    ContextUsage? Context, IReadOnlyList<InjectionView>? Injections);

/// <summary>Why a memory was in a turn's context: reason, score, the branch it came from, and the memory itself (null once forgotten).</summary>
internal sealed record InjectionView(string MemoryId, string Reason, double Score, string? FromBranch, MemoryEntry? Memory);

internal sealed record MessageRequest(string? Text);

internal sealed record MessageReply(string Reply, string ConversationId);

internal sealed record AddMemoryRequest(string? Content, string? Category, double? Importance, bool? Sensitive, double? ExpiresInSeconds);

/// <summary>Body of <c>POST /v1/shared/notes</c>: only what a note has, so a note sent as sensitive, categorised or
/// expiring is refused rather than stored without it.</summary>
internal sealed record NoteRequest(string? Content, double? Importance);

internal sealed record MemorySearchHit(MemoryEntry Memory, double Score, double LexicalScore, double SemanticScore);

internal sealed record MemoryList(IReadOnlyList<MemoryEntry> Entries, int TokenCount, int MaxTokens);

internal sealed record AnalyticsView(
    Analytics.SessionAnalytics Session, IReadOnlyList<Analytics.ConversationAnalytics> Conversations,
    IReadOnlyDictionary<string, Analytics.CustomMetric> Metrics, Adaptation.LearnedPreferences Preferences, DateTimeOffset UpdatedAt);

internal sealed record MetricRequest(string? Name, double? Value);

internal sealed record PreferenceRequest(string? Value);

internal sealed record CreateShareRequest(string? SharedWith, List<string>? Permissions, double? ExpiresInHours);

internal sealed record ShareCreated(string ShareId, string Token, ShareInfo Share);

internal sealed record CreateKeyRequest(string? Tenant, bool? Admin);

internal sealed record KeyCreated(string KeyId, string Tenant, bool Admin, string Key);

internal sealed record KeyView(string KeyId, string Tenant, bool Admin, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

internal sealed record TemplateRequest(string? Name, SessionConfig? Config, List<string>? RequiredContext, List<string>? MemoryCategories);

internal sealed record Health(string Status, string Storage);

/// <summary>Shapes library values for the API: never an embedding, never a sensitive value, user ids as the tenant knows them.</summary>
internal static class ApiViews
{
    public static MemoryEntry Memory(MemoryEntry entry) => entry.Redacted() with { Embedding = default, EmbeddingModel = null };

    /// <summary>A memory as <paramref name="tenant"/> sees it: a note's author is named as the tenant knows the user.</summary>
    public static MemoryEntry Memory(string tenant, MemoryEntry entry) =>
        Memory(entry) with { Author = entry.Author is { } author ? Tenancy.Tenants.PublicUserId(tenant, author) : null };

    public static TurnView Turn(string tenant, int index, ConversationTurn turn, IReadOnlyDictionary<string, MemoryEntry> memories) => new(
        index, turn.Role, turn.Content, turn.Timestamp, turn.ResponseTimeMs, turn.Interrupted, turn.Context,
        turn.Injections?.Select(i => Injection(tenant, i, memories)).ToList()
            ?? turn.InjectedMemoryIds?.Select(id => Injection(tenant, new InjectedMemory(id, "injected", 0, null), memories)).ToList());

    private static InjectionView Injection(string tenant, InjectedMemory injected, IReadOnlyDictionary<string, MemoryEntry> memories) =>
        new(injected.MemoryId, injected.Reason, injected.Score, injected.FromBranch,
            memories.TryGetValue(injected.MemoryId, out var entry) ? Memory(tenant, entry) : null);
}
