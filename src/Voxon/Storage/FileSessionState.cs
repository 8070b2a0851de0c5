namespace Voxon.Storage;

/// <summary>What the file backend keeps in a session's <c>.lock</c> file: the stored version, the sizes of the
/// snapshot and journal it corresponds to (a mismatch means a crash in between: the files are then replayed),
/// and the summary listings show. A cache of the files, never the truth.</summary>
internal sealed class FileSessionState
{
    public long Version { get; set; }

    public long SnapshotLength { get; set; }

    public long JournalLength { get; set; }

    public string UserId { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public int ConversationCount { get; set; }

    public int MessageCount { get; set; }

    public SessionSummary ToSummary(string sessionId) => new(sessionId, UserId, CreatedAt, UpdatedAt, ConversationCount, MessageCount);

    public static FileSessionState Of(SessionDocument head, long snapshotLength, long journalLength) => new()
    {
        Version = head.Version,
        SnapshotLength = snapshotLength,
        JournalLength = journalLength,
        UserId = head.UserId,
        CreatedAt = head.CreatedAt,
        UpdatedAt = head.UpdatedAt,
        ConversationCount = head.Analytics.ConversationCount,
        MessageCount = head.Analytics.MessageCount,
    };
}
