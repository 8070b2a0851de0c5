using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Voxon.Sessions;
using Voxon.Sharing;
using Voxon.Storage;

namespace Voxon.Migration;

/// <summary>Reads and validates session exports and remaps their user ids. Pure: it never touches storage, so a
/// refused document leaves nothing behind.</summary>
internal static class SessionImporter
{
    private static readonly string[] EnvelopeProperties = ["format", "version", "exported_at", "checksum", "payload"];

    /// <summary>Parses and fully validates an export.</summary>
    /// <exception cref="SessionImportException">Anything is wrong; the message says what.</exception>
    internal static SessionExportPayload Read(ReadOnlyMemory<byte> data, long maxSize)
    {
        if (data.Length > maxSize)
        {
            throw new SessionImportException($"the document is {data.Length} bytes, over the {maxSize}-byte limit (VoxonOptions.MaxImportSize)");
        }

        // Editors on Windows save UTF-8 with a byte-order mark; it is not part of the JSON.
        if (data.Span.StartsWith("\uFEFF"u8))
        {
            data = data[3..];
        }

        // The JSON reader checks UTF-8 only when a string is read; checking it all first keeps every later read safe.
        if (!Utf8.IsValid(data.Span))
        {
            throw new SessionImportException("it is not valid UTF-8 text (damaged?)");
        }

        JsonDocument envelope;
        try
        {
            envelope = JsonDocument.Parse(data, new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            throw new SessionImportException($"it is not valid JSON (truncated or damaged?) at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}", ex);
        }

        using (envelope)
        {
            var payloadBytes = CheckEnvelope(envelope.RootElement);
            var payload = Deserialize(payloadBytes);
            var problems = Problems(payload);
            if (problems.Count > 0)
            {
                throw new SessionImportException("the session is invalid: " + string.Join("; ", problems.Take(10)) + (problems.Count > 10 ? $"; and {problems.Count - 10} more" : string.Empty));
            }

            return payload;
        }
    }

    /// <summary>Replaces every user id in <paramref name="payload"/> found in <paramref name="mapping"/>: owner, config, note authors, share owners and targets.</summary>
    internal static void Remap(SessionExportPayload payload, IReadOnlyDictionary<string, string>? mapping)
    {
        if (mapping is null || mapping.Count == 0)
        {
            return;
        }

        var bad = mapping.Where(p => !SessionIds.IsValid(p.Key) || !SessionIds.IsValid(p.Value)).Select(p => $"'{p.Key}' -> '{p.Value}'").ToList();
        if (bad.Count > 0)
        {
            throw new SessionImportException($"the user id mapping has invalid ids: {string.Join(", ", bad)}");
        }

        string Map(string id) => mapping.TryGetValue(id, out var mapped) ? mapped : id;
        var session = payload.Session;
        session.UserId = Map(session.UserId);
        session.Config.UserId = session.UserId;
        var entries = session.Memory.Entries;
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Author is { } author)
            {
                entries[i] = entries[i] with { Author = Map(author) };
            }
        }

        payload.Shares = [.. payload.Shares.Select(s => s with { OwnerUserId = Map(s.OwnerUserId), SharedWithUserId = Map(s.SharedWithUserId) })];
    }

    /// <summary>Checks the envelope and the checksum; returns the canonical payload bytes.</summary>
    private static byte[] CheckEnvelope(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new SessionImportException($"the document is a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not a session export object");
        }

        var unexpected = root.EnumerateObject().Select(p => p.Name).Where(n => !EnvelopeProperties.Contains(n)).ToList();
        if (unexpected.Count > 0)
        {
            throw new SessionImportException($"unexpected top-level properties: {string.Join(", ", unexpected)}");
        }

        var format = Property(root, "format", JsonValueKind.String).GetString();
        if (format != SessionExport.FormatName)
        {
            throw new SessionImportException($"it is not a Voxon session export (format '{format}', expected '{SessionExport.FormatName}')");
        }

        var version = Property(root, "version", JsonValueKind.Number);
        if (!version.TryGetInt32(out var number) || number != SessionExport.CurrentVersion)
        {
            throw new SessionImportException($"export version {version.GetRawText()} is not supported (this build reads version {SessionExport.CurrentVersion})");
        }

        if (!Property(root, "exported_at", JsonValueKind.String).TryGetDateTimeOffset(out _))
        {
            throw new SessionImportException("exported_at is not a date and time");
        }

        var checksum = Property(root, "checksum", JsonValueKind.String).GetString()!;
        var payload = Property(root, "payload", JsonValueKind.Object);
        var canonical = SessionExport.Canonical(payload);
        var actual = SessionExport.ChecksumOf(canonical);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(checksum.ToLowerInvariant()), Encoding.ASCII.GetBytes(actual)))
        {
            throw new SessionImportException("the checksum does not match the payload (the document was changed or damaged)");
        }

        return canonical;
    }

    private static JsonElement Property(JsonElement root, string name, JsonValueKind kind)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            throw new SessionImportException($"the required property '{name}' is missing");
        }

        return value.ValueKind == kind
            ? value
            : throw new SessionImportException($"'{name}' must be a JSON {kind.ToString().ToLowerInvariant()}, not {value.ValueKind.ToString().ToLowerInvariant()}");
    }

    private static SessionExportPayload Deserialize(byte[] payload)
    {
        try
        {
            return JsonSerializer.Deserialize(payload, MigrationJsonContext.Default.SessionExportPayload)
                ?? throw new SessionImportException("the payload is null");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or FormatException or ArgumentException or OverflowException)
        {
            // Deserialization has no side effects; any failure of it means the payload has the wrong shape.
            throw new SessionImportException($"the payload has the wrong shape: {ex.Message}", ex);
        }
    }

    private static List<string> Problems(SessionExportPayload payload)
    {
        var session = payload.Session;
        var problems = new List<string>();

        // Collections may hold nulls the serializer lets through; later checks assume they do not.
        if (session.Memory.Entries.Contains(null!) || session.Conversations.Contains(null!) || payload.Shares.Contains(null!)
            || session.Conversations.Any(c => c?.Turns.Contains(null!) == true || c?.Turns.Any(t => t?.InjectedMemoryIds?.Contains(null!) == true) == true)
            || session.Preferences.Values.Contains(null!) || session.Template?.Context.Values.Contains(null!) == true
            || session.Template?.MemoryCategories.Contains(null!) == true || payload.Shares.Any(s => s?.Permissions.Contains(null!) == true))
        {
            return ["a list or map holds null"];
        }

        if (!SessionIds.IsValid(session.SessionId))
        {
            problems.Add($"session_id {SessionIds.Describe(session.SessionId)}");
            return problems;
        }

        problems.AddRange(SessionDocumentSerializer.Problems(session, session.SessionId));
        CounterProblems(session, problems);

        if (session.Config.UserId is { } configUser && configUser != session.UserId)
        {
            problems.Add($"config.user_id '{configUser}' differs from user_id '{session.UserId}'");
        }

        if (session.Config.SessionId != session.SessionId)
        {
            problems.Add($"config.session_id '{session.Config.SessionId}' differs from session_id '{session.SessionId}'");
        }

        // Every user-controlled string is capped on import as on the API (a 40 MB preference would slow every turn).
        problems.AddRange(session.Preferences.Select(p => Adaptation.PreferenceLearner.OverrideProblem(p.Key, p.Value)).OfType<string>().Take(3));
        problems.AddRange(Adaptation.PreferenceLearner.AmbiguousOverrides(session.Preferences.Keys).Take(3));
        problems.AddRange(session.Analytics.CustomMetrics.Keys.Where(k => !Session.CategoryPattern().IsMatch(k)).Take(3).Select(k => $"custom metric name '{(k.Length > 64 ? k[..64] + "..." : k)}' is malformed or over 64 characters"));
        MemoryProblems(session, problems);
        ConversationProblems(session, problems);
        TemplateProblems(session.Template, problems);
        foreach (var share in payload.Shares)
        {
            if (!SessionIds.IsValid(share.ShareId) || !SessionIds.IsValid(share.OwnerUserId) || !SessionIds.IsValid(share.SharedWithUserId) || share.SessionId != session.SessionId)
            {
                problems.Add($"share '{share.ShareId}' has an invalid id or belongs to another session");
            }

            if (share.Permissions.Any(p => !SharePermissions.All.Contains(p)))
            {
                problems.Add($"share '{share.ShareId}' has an unknown permission");
            }
        }

        foreach (var duplicate in payload.Shares.GroupBy(s => s.ShareId, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"share id '{duplicate.Key}' appears twice");
        }

        return problems;
    }

    /// <summary>Replaces every count that can be derived from the session's content by the count itself, so a
    /// document cannot bring its own (a token count of int.MaxValue would overflow the memory budget and disable it).</summary>
    internal static void RecomputeCounts(SessionDocument session)
    {
        var entries = session.Memory.Entries;
        for (var i = 0; i < entries.Count; i++)
        {
            entries[i] = entries[i] with { TokenCount = Memory.TokenCounter.Count(entries[i].Content) };
        }

        session.Memory.TokenCount = entries.Where(e => e.SupersededBy is null).Sum(e => e.TokenCount);
        var analytics = session.Analytics;
        analytics.ConversationCount = session.Conversations.Count;
        analytics.MessageCount = session.Conversations.Sum(c => c.Turns.Count);
        analytics.TotalDurationSeconds = session.Conversations.Sum(c => c.DurationSeconds);
        analytics.AvgDurationSeconds = session.Conversations.Count == 0 ? 0 : analytics.TotalDurationSeconds / session.Conversations.Count;
        session.Records = RecordCounts.Of(session);
    }

    /// <summary>Counters that cannot be derived from the content (running sums of analytics and learning): they must
    /// be non-negative, finite and no larger than the messages they count.</summary>
    private static void CounterProblems(SessionDocument session, List<string> problems)
    {
        if (session.Version == SessionDocument.MaxVersion)
        {
            problems.Add($"version {session.Version} is the highest a session can have; importing stores it as the next one");
        }

        var analytics = session.Analytics;
        var messages = session.Conversations.Sum(c => (long)c.Turns.Count);
        var bad = new List<string>();
        if (analytics.TopicCounts.Values.Any(v => v < 0 || v > messages * 100))
        {
            bad.Add("topic_counts");
        }

        if (analytics.HourlyMessages.Length != 24 || analytics.HourlyMessages.Any(v => v < 0) || analytics.HourlyMessages.Sum(v => (long)v) > messages)
        {
            bad.Add("hourly_messages");
        }

        if (analytics.SentimentSamples < 0 || analytics.SentimentSamples > messages || !double.IsFinite(analytics.SentimentSum) || Math.Abs(analytics.SentimentSum) > analytics.SentimentSamples)
        {
            bad.Add("sentiment_sum/sentiment_samples");
        }

        if (analytics.CustomMetrics.Values.Any(m => m is null || m.Count < 0 || !double.IsFinite(m.Sum) || !double.IsFinite(m.Last) || !double.IsFinite(m.Min) || !double.IsFinite(m.Max)))
        {
            bad.Add("custom_metrics");
        }

        if (session.LearnedPreferences is { } learned
            && (learned.EvidenceCount < 0 || learned.VerbositySamples < 0 || learned.PaceSamples < 0
                || new[] { learned.WordsSum, learned.FormalitySum, learned.TechnicalSum, learned.VerbositySum, learned.PaceSum }.Any(v => !double.IsFinite(v) || v < 0)
                || learned.Announced.Values.Any(v => !double.IsFinite(v))))
        {
            bad.Add("learned_preferences");
        }

        if (bad.Count > 0)
        {
            problems.Add("counters are negative, not finite or larger than the messages they count: " + string.Join(", ", bad));
        }
    }

    private static void MemoryProblems(SessionDocument session, List<string> problems)
    {
        int? dimensions = null;
        foreach (var entry in session.Memory.Entries)
        {
            if (!SessionIds.IsValid(entry.Id))
            {
                problems.Add($"memory id {SessionIds.Describe(entry.Id)}");
            }

            if (!Session.CategoryPattern().IsMatch(entry.Category))
            {
                problems.Add($"memory '{entry.Id}' has an invalid category");
            }

            if (!Enum.IsDefined(entry.Source))
            {
                problems.Add($"memory '{entry.Id}' has an unknown source {(int)entry.Source}");
            }

            foreach (var (what, id) in new[] { ("author", entry.Author), ("scope", entry.Scope), ("conversation_id", entry.ConversationId), ("superseded_by", entry.SupersededBy) })
            {
                if (id is not null && !SessionIds.IsValid(id))
                {
                    problems.Add($"memory '{entry.Id}' {what} {SessionIds.Describe(id)}");
                }
            }

            if (entry.Content.Length > Session.MaxMemoryContentLength || entry.Context?.Length > Session.MaxMemoryContentLength)
            {
                problems.Add($"memory '{entry.Id}' content or context is longer than {Session.MaxMemoryContentLength} characters");
            }

            if (entry.Embedding is { Length: > 0 } embedding)
            {
                dimensions ??= embedding.Length;
                if (embedding.Length != dimensions || !System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(embedding.Span))
                {
                    problems.Add($"memory '{entry.Id}' has an embedding of another size or with non-finite values");
                }
            }
        }
    }

    private static void ConversationProblems(SessionDocument session, List<string> problems)
    {
        var parents = session.Conversations
            .GroupBy(c => c.ConversationId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().ParentId, StringComparer.Ordinal);
        foreach (var conversation in session.Conversations)
        {
            if (conversation.BranchPoint < 0 || conversation.DurationSeconds < 0 || !double.IsFinite(conversation.DurationSeconds) || conversation.InjectionCount < 0)
            {
                problems.Add($"conversation '{conversation.ConversationId}' has a negative branch point, duration or injection count");
            }

            foreach (var turn in conversation.Turns)
            {
                if (TranscriptRecordFormat.Problem(turn) is { } problem)
                {
                    problems.Add($"a turn of conversation '{conversation.ConversationId}' {problem}");
                    break;
                }
            }

            // Branch history walks parent links: a cycle would never end.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var id = conversation.ConversationId; id is not null; id = parents.GetValueOrDefault(id))
            {
                if (!seen.Add(id))
                {
                    problems.Add($"conversation '{conversation.ConversationId}' is its own ancestor");
                    break;
                }
            }
        }
    }

    private static void TemplateProblems(TemplateBindingDocument? template, List<string> problems)
    {
        if (template is null)
        {
            return;
        }

        if (!SessionIds.IsValid(template.Name) || template.Context.Keys.Any(k => !SessionIds.IsValid(k))
            || template.Context.Values.Any(v => v.Length > Templates.SessionTemplate.MaxContextValueLength || v.Any(char.IsControl))
            || template.MemoryCategories.Any(c => !Session.CategoryPattern().IsMatch(c)))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"template '{template.Name}' has an invalid name, context key or value, or memory category"));
        }
    }
}
