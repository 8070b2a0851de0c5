using System.Text.Json.Serialization.Metadata;

namespace Voxon.Storage;

public sealed partial class FileSessionStorage
{
    /// <inheritdoc />
    public override async Task SaveShareAsync(ShareRecord share, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(share);
        var path = SharePath(share.TokenHash);
        var key = await _codec.KeyForAsync(SessionIds.Validate(share.OwnerUserId, "user id"), "save share", cancellationToken);
        var bytes = StoredJson.Seal(_codec, share, "share/" + share.TokenHash, VoxonJsonContext.Default.ShareRecord, key);
        await WriteAtomicallyAsync(path, bytes, "save share", share.SessionId, cancellationToken);
    }

    /// <inheritdoc />
    public override Task<ShareRecord?> FindShareAsync(string tokenHash, CancellationToken cancellationToken = default) =>
        ReadRecordAsync(SharePath(tokenHash), "share/" + tokenHash, VoxonJsonContext.Default.ShareRecord, "find share", cancellationToken);

    /// <inheritdoc />
    public override async Task<IReadOnlyList<ShareRecord>> ListSharesAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        SessionIds.Validate(sessionId);
        return [.. (await SharesWhereAsync(s => s.SessionId == sessionId, cancellationToken)).Select(s => s.Share).OrderBy(s => s.CreatedAt)];
    }

    /// <summary>Deletes the share records of <paramref name="sessionId"/>.</summary>
    private async Task DeleteSharesAsync(string sessionId, CancellationToken cancellationToken)
    {
        var shares = await SharesWhereAsync(s => s.SessionId == sessionId, cancellationToken);
        foreach (var (_, path) in shares)
        {
            File.Delete(path);
        }

        if (shares.Count > 0)
        {
            DurableFolder.Flush(Path.GetDirectoryName(shares[0].Path)!);
        }
    }

    /// <summary>The readable share records that match <paramref name="match"/>, read in one pass over the shares folder.</summary>
    private async Task<List<(ShareRecord Share, string Path)>> SharesWhereAsync(Func<ShareRecord, bool> match, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(_folder, "shares");
        var shares = new List<(ShareRecord, string)>();
        if (!Directory.Exists(folder))
        {
            return shares;
        }

        foreach (var path in Directory.EnumerateFiles(folder, "*" + Extension))
        {
            var hash = Path.GetFileNameWithoutExtension(path);
            try
            {
                if (await ReadRecordAsync(path, "share/" + hash, VoxonJsonContext.Default.ShareRecord, "list shares", cancellationToken) is { } share && match(share))
                {
                    shares.Add((share, path));
                }
            }
            catch (SessionCorruptException ex)
            {
                ReportSkipped(ex); // one unreadable record must not hide the others
            }
        }

        return shares;
    }

    /// <inheritdoc />
    public override async Task SaveTemplateAsync(TemplateDocument template, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(template);
        var path = TemplatePath(template.Name);
        var key = await _codec.KeyForAsync(null, "save template", cancellationToken);
        var bytes = StoredJson.Seal(_codec, template, "template/" + template.Name, VoxonJsonContext.Default.TemplateDocument, key);
        await WriteAtomicallyAsync(path, bytes, "save template", null, cancellationToken);
    }

    /// <inheritdoc />
    public override Task<TemplateDocument?> LoadTemplateAsync(string name, CancellationToken cancellationToken = default) =>
        ReadRecordAsync(TemplatePath(name), "template/" + name, VoxonJsonContext.Default.TemplateDocument, "load template", cancellationToken);

    /// <inheritdoc />
    public override Task<IReadOnlyList<string>> ListTemplatesAsync(CancellationToken cancellationToken = default)
    {
        var folder = Path.Combine(_folder, "templates");
        IReadOnlyList<string> names = Directory.Exists(folder)
            ? [.. Directory.EnumerateFiles(folder, "*" + Extension).Select(Path.GetFileNameWithoutExtension).OfType<string>().Where(SessionIds.IsValid).Order(StringComparer.Ordinal)]
            : [];
        return Task.FromResult(names);
    }

    /// <inheritdoc />
    public override bool IsEncrypted => _codec.Encryption is not null;

    /// <inheritdoc />
    public override Task<ErasureReceipt> EraseUserAsync(string userId, ErasureOptions? options = null, CancellationToken cancellationToken = default) =>
        UserErasure.RunAsync(this, userId, new UserErasure.Hooks
        {
            Control = _codec.ControlStore,
            KeyRing = _codec.KeyRing,
            CountStorage = (sessionId, counts, _) =>
            {
                Add(counts, ErasureReceipt.Snapshots, File.Exists(PathOf(sessionId, Extension)));
                Add(counts, ErasureReceipt.Journals, File.Exists(PathOf(sessionId, JournalExtension)));
                Add(counts, ErasureReceipt.IndexEntries, File.Exists(PathOf(sessionId, LockExtension)));
                return Task.CompletedTask;
            },
            UnlistedSessions = SessionsLockedForAsync,
            SharesWithUser = async (user, token) => [.. (await SharesWhereAsync(s => s.SharedWithUserId == user, token)).Select(s => s.Share)],
            DeleteShare = (hash, _) =>
            {
                File.Delete(SharePath(hash));
                DurableFolder.Flush(Path.GetDirectoryName(SharePath(hash))!);
                return Task.CompletedTask;
            },
        }, options, cancellationToken);

    /// <inheritdoc />
    public override async Task<int> RewrapKeysAsync(CancellationToken cancellationToken = default) =>
        _codec.KeyRing is { } ring ? await ring.RewrapAsync(cancellationToken) : 0;

    /// <summary>The sessions whose lock file names <paramref name="userId"/>, whether or not their files still load (a
    /// listing skips a damaged one).</summary>
    private async Task<IReadOnlyList<string>> SessionsLockedForAsync(string userId, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        if (!Directory.Exists(_folder))
        {
            return ids;
        }

        foreach (var path in Directory.EnumerateFiles(_folder, "*" + LockExtension))
        {
            var id = Path.GetFileNameWithoutExtension(path);
            if (SessionIds.IsValid(id))
            {
                await using var handle = await SharedLockAsync(id, cancellationToken);
                if (handle is not null && ReadState(handle, cancellationToken)?.UserId == userId)
                {
                    ids.Add(id);
                }
            }
        }

        return ids;
    }

    private static void Add(Dictionary<string, int> counts, string kind, bool present) =>
        counts[kind] = counts.GetValueOrDefault(kind) + (present ? 1 : 0);

    private async Task<T?> ReadRecordAsync<T>(string path, string context, JsonTypeInfo<T> type, string operation, CancellationToken cancellationToken)
        where T : class
    {
        var bytes = await ReadIfExistsAsync(path, operation, null, cancellationToken);
        return bytes is null ? null : await StoredJson.ParseAsync(_codec, bytes, context, type, operation, cancellationToken);
    }

    private string SharePath(string tokenHash) => Path.Combine(_folder, "shares", StoredJson.ValidateTokenHash(tokenHash) + Extension);

    private string TemplatePath(string name) => Path.Combine(_folder, "templates", SessionIds.Validate(name, "template name") + Extension);
}
