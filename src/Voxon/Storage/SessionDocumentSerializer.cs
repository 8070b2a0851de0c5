using System.Text.Json;

namespace Voxon.Storage;

/// <summary>Turns <see cref="SessionDocument"/>s into UTF-8 JSON and back, validating what it reads so a
/// damaged record is rejected whole instead of half-loaded. Shared by every backend that stores JSON.</summary>
public static class SessionDocumentSerializer
{
    /// <summary>UTF-8 JSON of <paramref name="document"/>.</summary>
    public static byte[] Serialize(SessionDocument document) =>
        JsonSerializer.SerializeToUtf8Bytes(document, VoxonJsonContext.Default.SessionDocument);

    /// <summary>Reads and validates a stored session.</summary>
    /// <exception cref="SessionCorruptException">The bytes are not a valid session document for <paramref name="sessionId"/>.</exception>
    public static SessionDocument Deserialize(ReadOnlySpan<byte> utf8Json, string backend, string sessionId)
    {
        SessionDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(utf8Json, VoxonJsonContext.Default.SessionDocument);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" at line {line + 1}, byte {ex.BytePositionInLine}" : string.Empty;
            throw new SessionCorruptException(backend, sessionId, $"invalid JSON{where}: {ex.Message}", ex);
        }

        if (document is null)
        {
            throw new SessionCorruptException(backend, sessionId, "the record is empty (null)");
        }

        Validate(document, backend, sessionId);
        return document;
    }

    /// <summary>Throws when a session assembled from stored parts is not valid, or records it counts are missing.</summary>
    /// <param name="document">The session.</param>
    /// <param name="backend">The backend, for the error.</param>
    /// <param name="sessionId">The id it was stored under.</param>
    /// <param name="withContent">False for a metadata-only document (no memory entries or turns to count).</param>
    /// <param name="memoryKeyedById">See <see cref="Problems"/>.</param>
    internal static void Validate(SessionDocument document, string backend, string sessionId, bool withContent = true, bool memoryKeyedById = false)
    {
        var problems = Problems(document, sessionId, memoryKeyedById);
        if (document.Records?.Mismatch(document, withContent) is { } missing)
        {
            problems.Add(missing);
        }

        if (problems.Count > 0)
        {
            throw new SessionCorruptException(backend, sessionId, string.Join("; ", problems));
        }
    }

    /// <summary>What is wrong with <paramref name="document"/>; empty when it is valid (also used by import).</summary>
    /// <param name="document">The document.</param>
    /// <param name="sessionId">The id it was stored under.</param>
    /// <param name="memoryKeyedById">Its memory entries were assembled keyed by id (<see cref="SessionAssembler"/>), so no
    /// id can appear twice: the check is skipped (at 10,000 memories, a set of every id on every load).</param>
    internal static List<string> Problems(SessionDocument document, string sessionId, bool memoryKeyedById = false)
    {
        var problems = new List<string>();
        if (document.FormatVersion is < 1 or > SessionDocument.CurrentFormatVersion)
        {
            problems.Add($"format_version {document.FormatVersion} is not supported (this build reads 1 to {SessionDocument.CurrentFormatVersion})");
        }

        if (document.Version is < 0 or > SessionDocument.MaxVersion)
        {
            problems.Add($"version {document.Version} is outside 0..{SessionDocument.MaxVersion}");
        }

        if (!string.Equals(document.SessionId, sessionId, StringComparison.Ordinal))
        {
            problems.Add($"it holds session '{document.SessionId}' instead");
        }

        if (!SessionIds.IsValid(document.UserId))
        {
            problems.Add($"user_id {SessionIds.Describe(document.UserId)}");
        }

        try
        {
            document.Config.Validate();
        }
        catch (VoxonConfigurationException ex)
        {
            problems.Add("config: " + string.Join(", ", ex.Errors));
        }

        var memoryIds = memoryKeyedById ? null : new HashSet<string>(document.Memory.Entries.Count, StringComparer.Ordinal);
        foreach (var entry in document.Memory.Entries)
        {
            if (memoryIds?.Add(entry.Id) == false)
            {
                problems.Add($"memory id '{entry.Id}' appears twice");
            }

            if (string.IsNullOrWhiteSpace(entry.Content) || double.IsNaN(entry.Importance) || entry.Importance is < 0 or > 1)
            {
                problems.Add($"memory '{entry.Id}' has empty content or an importance outside 0..1");
            }
        }

        var conversationIds = new HashSet<string>(document.Conversations.Count, StringComparer.Ordinal);
        foreach (var conversation in document.Conversations)
        {
            if (!SessionIds.IsValid(conversation.ConversationId) || !conversationIds.Add(conversation.ConversationId))
            {
                problems.Add($"conversation id '{conversation.ConversationId}' is invalid or appears twice");
            }
        }

        foreach (var conversation in document.Conversations)
        {
            if (conversation.ParentId is { } parent && !conversationIds.Contains(parent))
            {
                problems.Add($"conversation '{conversation.ConversationId}' names a missing parent '{parent}'");
            }
        }

        var parents = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var conversation in document.Conversations.Where(c => c.ParentId is not null))
        {
            parents.TryAdd(conversation.ConversationId, conversation.ParentId!);
        }

        foreach (var conversation in document.Conversations)
        {
            // A cycle would make every walk up the branch tree (history, scoping) loop forever.
            var steps = 0;
            for (var id = conversation.ConversationId; parents.TryGetValue(id, out var parent); id = parent)
            {
                if (++steps > parents.Count)
                {
                    problems.Add($"conversation '{conversation.ConversationId}' is its own ancestor");
                    break;
                }
            }
        }

        return problems;
    }
}
