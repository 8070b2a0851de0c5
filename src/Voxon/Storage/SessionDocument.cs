using System.Text.Json.Serialization;
using Voxon.Sessions;

namespace Voxon.Storage;

/// <summary>
/// Everything stored of a session, in the spec's "Session Data Structure" shape (snake_case JSON:
/// session_id, user_id, created_at, updated_at, config, analytics, preferences, memory{entries, token_count},
/// plus conversations with their transcripts). Plain data handed to <see cref="SessionStorage"/> backends.
/// </summary>
public sealed class SessionDocument
{
    /// <summary>The version of this document's shape; bumped when it changes incompatibly.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Highest version a stored or imported session may have: 2^53 - 1, which stays exact as a JSON number
    /// everywhere and leaves room for any number of saves without overflowing.</summary>
    public const long MaxVersion = (1L << 53) - 1;

    /// <summary>Shape version of this document.</summary>
    [JsonPropertyOrder(-10)]
    public int FormatVersion { get; set; } = CurrentFormatVersion;

    /// <summary>The session id.</summary>
    [JsonPropertyOrder(-9)]
    public required string SessionId { get; set; }

    /// <summary>The owner.</summary>
    [JsonPropertyOrder(-8)]
    public required string UserId { get; set; }

    /// <summary>Creation time.</summary>
    [JsonPropertyOrder(-7)]
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Time of the last change.</summary>
    [JsonPropertyOrder(-6)]
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Incremented by every save; lets backends detect a save based on a stale copy.</summary>
    [JsonPropertyOrder(-5)]
    public long Version { get; set; }

    /// <summary>The session's configuration.</summary>
    [JsonPropertyOrder(-4)]
    public required SessionConfig Config { get; set; }

    /// <summary>Usage counts.</summary>
    [JsonPropertyOrder(-3)]
    public SessionAnalyticsDocument Analytics { get; set; } = new();

    /// <summary>Preference overrides set by the application, by name.</summary>
    [JsonPropertyOrder(-2)]
    public Dictionary<string, string> Preferences { get; set; } = [];

    /// <summary>What adaptation learned (running sums); null in documents written before it existed.</summary>
    public LearnedPreferencesDocument? LearnedPreferences { get; set; }

    /// <summary>Memories that persist (see <see cref="MemoryMode"/>).</summary>
    public MemoryDocument Memory { get; set; } = new();

    /// <summary>Conversations with their transcripts.</summary>
    public List<ConversationDocument> Conversations { get; set; } = [];

    /// <summary>The template the session was created from, its context and allowed memory categories; null when none.</summary>
    public TemplateBindingDocument? Template { get; set; }

    /// <summary>How many records the stored session has (set by every save, checked by every load); null in documents
    /// written before it existed, which are loaded unchecked.</summary>
    public RecordCounts? Records { get; set; }

    /// <summary>A shallow copy without memory entries and conversations: the metadata every save writes. A copy of
    /// the whole object, so properties added to the document later are kept without touching this method.</summary>
    internal SessionDocument WithoutContent()
    {
        var head = (SessionDocument)MemberwiseClone();
        head.Memory = Memory.WithoutEntries();
        head.Conversations = [];
        return head;
    }
}
