using Voxon.Conversations;
using Voxon.Memory;
using Voxon.Security;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Sharing;

/// <summary>
/// A session as seen through a share (<see cref="VoxonClient.AccessSharedSessionAsync"/>). It can do exactly what the
/// share permits: <c>read</c> gives memory (sensitive entries redacted), transcripts (personal data and sensitive
/// memories redacted) and basic analytics; <c>add_notes</c> adds <c>note</c> memories written straight to storage.
/// Nothing else that changes the session exists on this type.
/// </summary>
/// <remarks>Reads serve the session as it was stored when the view was opened (or last added a note); open a new view to see later changes.
/// Every call checks the share's expiry; <see cref="AddNoteAsync"/> also re-checks revocation in storage. Thread-safe.</remarks>
public sealed class SharedSessionView
{
    private readonly Lock _gate = new();
    private readonly VoxonRuntime _runtime;
    private readonly ShareRecord _share;
    private SessionDocument _document;

    internal SharedSessionView(VoxonRuntime runtime, ShareRecord share, SessionDocument document)
    {
        _runtime = runtime;
        _share = share;
        _document = document;
        Info = ShareInfo.From(share);
    }

    /// <summary>The share this view was opened with.</summary>
    public ShareInfo Info { get; }

    /// <summary>The shared session's id.</summary>
    public string SessionId => Info.SessionId;

    /// <summary>The user the session was shared with (the author of notes added here).</summary>
    public string SharedWithUserId => Info.SharedWithUserId;

    /// <summary>Whether the share grants <see cref="SharePermissions.Read"/>.</summary>
    public bool CanRead => Info.Permissions.Contains(SharePermissions.Read);

    /// <summary>Whether the share grants <see cref="SharePermissions.AddNotes"/>.</summary>
    public bool CanAddNotes => Info.Permissions.Contains(SharePermissions.AddNotes);

    /// <summary>The session's live memory; sensitive entries read <c>[REDACTED]</c>, and the values of sensitive memories
    /// are redacted from the others too, with personal data from their context (transcript text, redacted as in
    /// <see cref="GetTranscript"/>); embeddings are left out.</summary>
    /// <exception cref="SharePermissionException">The share does not grant <c>read</c>.</exception>
    /// <exception cref="InvalidShareTokenException">The share has expired.</exception>
    public IReadOnlyList<MemoryEntry> GetMemory()
    {
        var (document, now) = Readable();
        var secrets = Secrets(document);
        return [.. document.Memory.Entries.Where(e => _runtime.MemoryTtl.IsLive(e, now)).Select(e => e.Redacted()).Select(e => e.Sensitive ? e : e with
        {
            Content = Redaction.RedactValues(e.Content, secrets),
            Context = e.Context is null ? null : RedactTurn(e.Context, secrets),
        })];
    }

    /// <summary>The session's conversations in the order they started.</summary>
    /// <inheritdoc cref="GetMemory" path="/exception"/>
    public IReadOnlyList<ConversationInfo> GetConversations()
    {
        var (document, _) = Readable();
        return [.. document.Conversations.Select(c => new ConversationInfo(c.ConversationId, c.ParentId, c.StartedAt, c.EndedAt, c.Turns.Count))];
    }

    /// <summary>A conversation's transcript with personal data (emails, phone and card numbers) and the content of sensitive
    /// memories redacted, in what was said, the unheard rest of interrupted replies and tool call arguments and results.</summary>
    /// <exception cref="SessionStateException">The session has no such conversation.</exception>
    /// <inheritdoc cref="GetMemory" path="/exception"/>
    public IReadOnlyList<ConversationTurn> GetTranscript(string conversationId)
    {
        var (document, _) = Readable();
        var conversation = document.Conversations.FirstOrDefault(c => c.ConversationId == conversationId)
            ?? throw new SessionStateException($"Session '{SessionId}' has no conversation '{conversationId}'.");
        var secrets = Secrets(document);
        // The unheard rest of a reply and the tool calls are transcript text too: they carry secrets as the reply does.
        return [.. conversation.Turns.Select(t => t with
        {
            Content = RedactTurn(t.Content, secrets),
            GeneratedContent = t.GeneratedContent is null ? null : RedactTurn(t.GeneratedContent, secrets),
            ToolCalls = t.ToolCalls?.Select(c => c with
            {
                Arguments = c.Arguments is null ? null : RedactTurn(c.Arguments, secrets),
                Result = c.Result is null ? null : RedactTurn(c.Result, secrets),
            }).ToList(),
        })];
    }

    /// <summary>Basic analytics: counts and durations.</summary>
    /// <inheritdoc cref="GetMemory" path="/exception"/>
    public SharedSessionAnalytics GetAnalytics()
    {
        var (document, now) = Readable();
        var a = document.Analytics;
        return new SharedSessionAnalytics(a.ConversationCount, a.MessageCount, a.TotalDurationSeconds, a.AvgDurationSeconds, document.Memory.Entries.Count(e => _runtime.MemoryTtl.IsLive(e, now)));
    }

    /// <summary>Adds a note (category <c>note</c>, source <see cref="MemorySource.Note"/>, author <see cref="SharedWithUserId"/>)
    /// and writes it to storage as a new version of the session. Notes are allowed whatever memory categories a template restricts the session to.</summary>
    /// <remarks>Notes are append-only: a note is one new memory record on top of the stored version. If the owner has the
    /// session open, the owner's next save merges the notes into it rather than failing; a save by the owner while the
    /// note is written makes this call retry on the new version.</remarks>
    /// <param name="content">The note, at most <see cref="Session.MaxMemoryContentLength"/> characters.</param>
    /// <param name="importance">0..1.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The note as stored (without its embedding).</returns>
    /// <exception cref="SharePermissionException">The share does not grant <c>add_notes</c>.</exception>
    /// <exception cref="InvalidShareTokenException">The share has expired or was revoked, or the session is gone.</exception>
    /// <exception cref="ArgumentException">The content is empty or too long.</exception>
    public async Task<MemoryEntry> AddNoteAsync(string content, double importance = 0.5, CancellationToken cancellationToken = default)
    {
        Require(SharePermissions.AddNotes);
        ArgumentException.ThrowIfNullOrWhiteSpace(content);
        if (content.Length > Session.MaxMemoryContentLength)
        {
            throw new ArgumentException($"A note may have at most {Session.MaxMemoryContentLength} characters; this has {content.Length}.", nameof(content));
        }

        WellFormedText.Check(content, "The note", nameof(content));

        if (double.IsNaN(importance) || importance is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(importance), importance, "Importance must be between 0 and 1.");
        }

        MemoryEntry? prepared = null;
        for (var attempt = 1; ; attempt++)
        {
            // Revocation takes effect for writes at once: the stored record is checked, not the copy taken at access.
            var current = await _runtime.Storage.FindShareAsync(_share.TokenHash, cancellationToken);
            var document = current is not null && ShareInfo.From(current).IsActiveAt(_runtime.Time.GetUtcNow())
                ? await Shares.LoadSharedAsync(_runtime, current, cancellationToken)
                : null;
            if (document is null)
            {
                throw new InvalidShareTokenException();
            }

            prepared ??= await NewNoteAsync(document.Config.RedactPii ? Redaction.RedactPii(content).Text : content, importance, cancellationToken);
            var note = prepared with { UpdatedAt = _runtime.Time.GetUtcNow() };

            // Append-only: the stored version plus the note. owner_version tells the owner's next save that only notes
            // were added since its version, so it merges them; a save by the owner in between makes this call retry.
            document.Memory.Entries.Add(note);
            document.Memory.TokenCount += note.TokenCount;
            document.UpdatedAt = note.UpdatedAt;
            document.OwnerVersion ??= document.Version;
            document.Version++;
            try
            {
                await _runtime.Storage.SaveAsync(document, cancellationToken);
            }
            catch (SessionConcurrencyException) when (attempt < 5)
            {
                continue;
            }

            lock (_gate)
            {
                _document = document;
            }

            return note with { Embedding = default };
        }
    }

    private async Task<MemoryEntry> NewNoteAsync(string content, double importance, CancellationToken cancellationToken)
    {
        content = content.Trim();
        var now = _runtime.Time.GetUtcNow();
        return new MemoryEntry
        {
            Id = SessionIds.NewId("mem_"),
            Content = content,
            Category = "note",
            Importance = importance,
            CreatedAt = now,
            UpdatedAt = now,
            Source = MemorySource.Note,
            Author = SharedWithUserId,
            TokenCount = TokenCounter.Count(content),
            OccurredAt = now,
            Embedding = await _runtime.EmbedAsync(content, cancellationToken),
            EmbeddingModel = _runtime.EmbeddingModelId,
        };
    }

    /// <summary>The values that carry the secrets of the session's sensitive memories, longest first.</summary>
    /// <remarks>By the values, not the memory's exact words: "The code for my locker is ZEBRA7731" hides ZEBRA7731.</remarks>
    private static List<string> Secrets(SessionDocument document) =>
        [.. document.Memory.Entries.Where(e => e.Sensitive).SelectMany(e => Redaction.SensitiveValues(e.Content)).Distinct(StringComparer.OrdinalIgnoreCase).OrderByDescending(v => v.Length)];

    private static string RedactTurn(string text, List<string> secrets) => Redaction.RedactPii(Redaction.RedactValues(text, secrets)).Text;

    private (SessionDocument Document, DateTimeOffset Now) Readable()
    {
        Require(SharePermissions.Read);
        lock (_gate)
        {
            return (_document, _runtime.Time.GetUtcNow());
        }
    }

    private void Require(string permission)
    {
        if (!Info.Permissions.Contains(permission))
        {
            throw new SharePermissionException(permission, Info.ShareId);
        }

        if (!Info.IsActiveAt(_runtime.Time.GetUtcNow()))
        {
            throw new InvalidShareTokenException();
        }
    }
}
