using System.Text.Json;

namespace Voxon.Storage;

/// <summary>
/// The default backend: one JSON document per session in a folder (<c>./sessions</c> unless configured).
/// Writes are atomic: the document goes to a temporary file that is flushed to disk and then renamed over
/// the previous one, so a crash mid-save leaves the previous version loadable.
/// </summary>
/// <remarks>Thread-safe; concurrent saves of one session from one process are serialised per session.</remarks>
public sealed class FileSessionStorage : SessionStorage
{
    private const string Extension = ".json";
    private const string TempMarker = ".tmp-";

    private readonly string _folder;

    /// <summary>Uses <paramref name="folder"/>, creating it on first save.</summary>
    public FileSessionStorage(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        _folder = Path.GetFullPath(folder);
    }

    /// <inheritdoc />
    public override string BackendName => "file";

    /// <summary>The absolute folder the sessions live in.</summary>
    public string Folder => _folder;

    /// <summary>Test hook: runs after the temporary file is written and flushed, before it replaces the session file.</summary>
    internal Action<string>? BeforeCommit { get; set; }

    /// <inheritdoc />
    public override async Task SaveAsync(SessionDocument document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        await WriteAtomicallyAsync(PathOf(document.SessionId), SessionDocumentSerializer.Serialize(document), "save", document.SessionId, cancellationToken);
    }

    /// <inheritdoc />
    public override Task SaveShareAsync(ShareRecord share, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(share);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(share, VoxonJsonContext.Default.ShareRecord);
        return WriteAtomicallyAsync(SharePath(share.TokenHash), bytes, "save share", share.SessionId, cancellationToken);
    }

    /// <inheritdoc />
    public override async Task<ShareRecord?> FindShareAsync(string tokenHash, CancellationToken cancellationToken = default)
    {
        var bytes = await ReadIfExistsAsync(SharePath(tokenHash), "find share", null, cancellationToken);
        return bytes is null ? null : ParseRecord(bytes, VoxonJsonContext.Default.ShareRecord, "share");
    }

    /// <inheritdoc />
    public override async Task<IReadOnlyList<ShareRecord>> ListSharesAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        SessionIds.Validate(sessionId);
        var folder = Path.Combine(_folder, "shares");
        if (!Directory.Exists(folder))
        {
            return [];
        }

        var shares = new List<ShareRecord>();
        foreach (var path in Directory.EnumerateFiles(folder, "*" + Extension))
        {
            var bytes = await ReadIfExistsAsync(path, "list shares", sessionId, cancellationToken);
            if (bytes is not null && ParseRecord(bytes, VoxonJsonContext.Default.ShareRecord, "share") is { } share && share.SessionId == sessionId)
            {
                shares.Add(share);
            }
        }

        return [.. shares.OrderBy(s => s.CreatedAt)];
    }

    /// <inheritdoc />
    public override Task SaveTemplateAsync(TemplateDocument template, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(template);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(template, VoxonJsonContext.Default.TemplateDocument);
        return WriteAtomicallyAsync(TemplatePath(template.Name), bytes, "save template", null, cancellationToken);
    }

    /// <inheritdoc />
    public override async Task<TemplateDocument?> LoadTemplateAsync(string name, CancellationToken cancellationToken = default)
    {
        var bytes = await ReadIfExistsAsync(TemplatePath(name), "load template", null, cancellationToken);
        return bytes is null ? null : ParseRecord(bytes, VoxonJsonContext.Default.TemplateDocument, "template");
    }

    /// <inheritdoc />
    public override Task<IReadOnlyList<string>> ListTemplatesAsync(CancellationToken cancellationToken = default)
    {
        var folder = Path.Combine(_folder, "templates");
        IReadOnlyList<string> names = Directory.Exists(folder)
            ? [.. Directory.EnumerateFiles(folder, "*" + Extension).Select(Path.GetFileNameWithoutExtension).OfType<string>().Where(SessionIds.IsValid).Order(StringComparer.Ordinal)]
            : [];
        return Task.FromResult(names);
    }

    private async Task WriteAtomicallyAsync(string path, byte[] bytes, string operation, string? sessionId, CancellationToken cancellationToken)
    {
        var temp = path + TempMarker + Guid.NewGuid().ToString("N")[..8];
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(bytes, cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            BeforeCommit?.Invoke(temp);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new VoxonStorageException(BackendName, operation, sessionId, $"could not write '{path}': {ex.Message}", ex is IOException and not FileNotFoundException, ex);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private async Task<byte[]?> ReadIfExistsAsync(string path, string operation, string? sessionId, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VoxonStorageException(BackendName, operation, sessionId, $"could not read '{path}': {ex.Message}", ex is IOException, ex);
        }
    }

    private T ParseRecord<T>(byte[] bytes, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, type) ?? throw new JsonException("null record");
        }
        catch (JsonException ex)
        {
            throw new VoxonStorageException(BackendName, "read " + what, null, $"the stored {what} is corrupt: {ex.Message}", false, ex);
        }
    }

    private string SharePath(string tokenHash)
    {
        if (tokenHash.Length != 64 || !tokenHash.All(char.IsAsciiHexDigitLower))
        {
            throw new ArgumentException("A share token hash is 64 lower-case hex digits.", nameof(tokenHash));
        }

        return Path.Combine(_folder, "shares", tokenHash + Extension);
    }

    private string TemplatePath(string name) => Path.Combine(_folder, "templates", SessionIds.Validate(name, "template name") + Extension);

    /// <inheritdoc />
    public override async Task<SessionDocument?> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var bytes = await ReadIfExistsAsync(PathOf(sessionId), "load", sessionId, cancellationToken);
        return bytes is null ? null : SessionDocumentSerializer.Deserialize(bytes, BackendName, sessionId);
    }

    /// <inheritdoc />
    public override Task<bool> DeleteAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var path = PathOf(sessionId);
        try
        {
            if (!File.Exists(path))
            {
                return Task.FromResult(false);
            }

            File.Delete(path);
            return Task.FromResult(true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VoxonStorageException(BackendName, "delete", sessionId, $"could not delete '{path}': {ex.Message}", ex is IOException, ex);
        }
    }

    /// <inheritdoc />
    public override async Task<IReadOnlyList<SessionSummary>> ListAsync(string? userId = null, CancellationToken cancellationToken = default)
    {
        if (userId is not null)
        {
            SessionIds.Validate(userId, "user id");
        }

        if (!Directory.Exists(_folder))
        {
            return [];
        }

        var summaries = new List<SessionSummary>();
        foreach (var path in Directory.EnumerateFiles(_folder, "*" + Extension))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var id = Path.GetFileNameWithoutExtension(path);
            if (!SessionIds.IsValid(id))
            {
                continue;
            }

            var summary = await ReadSummaryAsync(path, id, cancellationToken);
            if (summary is not null && (userId is null || summary.UserId == userId))
            {
                summaries.Add(summary);
            }
        }

        return [.. summaries.OrderByDescending(s => s.UpdatedAt)];
    }

    private string PathOf(string sessionId)
    {
        SessionIds.Validate(sessionId);
        var path = Path.Combine(_folder, sessionId + Extension);

        // Defence in depth: the id rules already forbid separators and leading dots.
        if (!string.Equals(Path.GetDirectoryName(path), _folder, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Invalid session id: '{sessionId}' would leave the storage folder.", nameof(sessionId));
        }

        return path;
    }

    /// <summary>Reads only the head of the document (ids, times, analytics), which comes before memory and transcripts.</summary>
    private async Task<SessionSummary?> ReadSummaryAsync(string path, string sessionId, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.Asynchronous);
            var buffer = new byte[Math.Min(stream.Length, 64 * 1024)];
            var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            return SummaryReader.Read(buffer.AsSpan(0, read), sessionId)
                ?? Summarize(SessionDocumentSerializer.Deserialize(await File.ReadAllBytesAsync(path, cancellationToken), BackendName, sessionId));
        }
        catch (Exception ex) when (ex is IOException or JsonException or SessionCorruptException or InvalidOperationException or FormatException)
        {
            // A corrupt or vanished file is skipped in a listing; loading it reports the problem. The head reader
            // throws InvalidOperationException or FormatException for a value of the wrong type (a number as session_id).
            return null;
        }
    }

    internal static SessionSummary Summarize(SessionDocument d) =>
        new(d.SessionId, d.UserId, d.CreatedAt, d.UpdatedAt, d.Analytics.ConversationCount, d.Analytics.MessageCount);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Leftover temporary files are ignored by load and list.
        }
    }
}
