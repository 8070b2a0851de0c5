using System.Text.Json;

namespace Voxon.Storage;

/// <summary>
/// The default backend: a folder (<c>./sessions</c> unless configured) holding, per session, a snapshot
/// (<c>ID.json</c>, the whole session), an append-only journal of the saves since (<c>ID.journal</c>) and a lock
/// file (<c>ID.lock</c>). A save appends only what changed to the journal and fsyncs it; past a size threshold the
/// journal is compacted into a new snapshot (written to a temporary file, fsynced, renamed). A crash leaves the
/// last acknowledged version loadable: a torn last journal frame is ignored.
/// </summary>
/// <remarks>Thread-safe and multi-process safe: saves take an exclusive lock on the session's <c>.lock</c> file and
/// check the stored version there, so of two processes saving from the same version exactly one wins and the other
/// gets <see cref="SessionConcurrencyException"/>. With <see cref="SessionEncryption"/>, snapshot, journal frames,
/// shares and templates are sealed; the lock file keeps only ids, times and counts for listings.</remarks>
public sealed partial class FileSessionStorage : SessionStorage
{
    private const string Extension = ".json";
    private const string JournalExtension = ".journal";
    private const string LockExtension = ".lock";
    private const string TempMarker = ".tmp-";

    private readonly string _folder;
    private readonly SessionRecordCodec _codec;

    /// <summary>Uses <paramref name="folder"/>, creating it on first save.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="encryption">Encrypts everything stored; null stores plain JSON.</param>
    public FileSessionStorage(string folder, SessionEncryption? encryption = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        _folder = Path.GetFullPath(folder);
        _codec = new SessionRecordCodec("file", encryption, new FileKeyRingStore(_folder));
    }

    /// <inheritdoc />
    public override string BackendName => "file";

    /// <summary>The absolute folder the sessions live in.</summary>
    public string Folder => _folder;

    /// <summary>Journal size past which a save compacts it into a new snapshot (at least half the snapshot's size). Default 1 MiB.</summary>
    internal long CompactionThreshold { get; set; } = 1 << 20;

    /// <summary>How long a save waits for another process's lock on the session. Default 10 s.</summary>
    internal TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Test hook: runs after a temporary file is written and flushed, before it replaces the target.</summary>
    internal Action<string>? BeforeCommit { get; set; }

    /// <inheritdoc />
    public override async Task SaveAsync(SessionDocument document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        var id = SessionIds.Validate(document.SessionId);
        await using var handle = await LockAsync(id, "save", cancellationToken);
        var state = await CurrentStateAsync(handle, id, cancellationToken);
        if (state.Version != 0 && state.Version != document.Version - 1)
        {
            throw new SessionConcurrencyException(BackendName, id, document.Version - 1, state.Version);
        }

        await WriteSnapshotAsync(handle, document, cancellationToken);
    }

    /// <inheritdoc />
    public override async Task SaveChangesAsync(SessionChangeSet changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var id = SessionIds.Validate(changes.SessionId);
        await using var handle = await LockAsync(id, "save", cancellationToken);
        var state = await CurrentStateAsync(handle, id, cancellationToken);
        if (state.Version != changes.BaseVersion)
        {
            throw new SessionConcurrencyException(BackendName, id, changes.BaseVersion, state.Version == 0 ? null : state.Version);
        }

        if (changes.BaseVersion == 0 || _codec.TakeRewrite(id) || state.JournalLength > Math.Max(CompactionThreshold, state.SnapshotLength / 2))
        {
            // First save, a session read with an old key, or a long journal: one new snapshot.
            await WriteSnapshotAsync(handle, changes.ToDocument(), cancellationToken);
            return;
        }

        var key = await _codec.KeyForAsync(changes.Head.UserId, "save", cancellationToken);
        var payload = _codec.Seal(FileJournal.EncodeRecords(SessionRecords.Encode(changes)), JournalContext(id, changes.Version), key);
        var journal = PathOf(id, JournalExtension);
        long length;
        try
        {
            await using var stream = new FileStream(journal, FileMode.Append, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
            await stream.WriteAsync(FileJournal.Frame(changes.Version, payload), cancellationToken);
            stream.Flush(flushToDisk: true);
            length = stream.Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure("save", id, journal, ex);
        }

        await WriteStateAsync(handle, FileSessionState.Of(changes.Head, state.SnapshotLength, length), cancellationToken);
    }

    /// <inheritdoc />
    public override async Task<SessionDocument?> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var (document, _, _) = await ReadSessionAsync(SessionIds.Validate(sessionId), "load", cancellationToken);
        return document;
    }

    /// <inheritdoc />
    public override async Task<bool> DeleteAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var id = SessionIds.Validate(sessionId);
        if (!File.Exists(PathOf(id, Extension)) && !File.Exists(PathOf(id, LockExtension)))
        {
            return false;
        }

        await using var handle = await LockAsync(id, "delete", cancellationToken);
        var snapshot = PathOf(id, Extension);
        try
        {
            var existed = File.Exists(snapshot);
            File.Delete(snapshot);
            File.Delete(PathOf(id, JournalExtension));
            File.Delete(PathOf(id, LockExtension));
            return existed;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure("delete", id, snapshot, ex);
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

            var summary = await SummaryAsync(id, cancellationToken);
            if (summary is not null && (userId is null || summary.UserId == userId))
            {
                summaries.Add(summary);
            }
        }

        return [.. summaries.OrderByDescending(s => s.UpdatedAt)];
    }

    /// <summary>The summary from the lock file when it matches the files, else from the session itself; null when unreadable.</summary>
    private async Task<SessionSummary?> SummaryAsync(string id, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            try
            {
                await using var stream = new FileStream(PathOf(id, LockExtension), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
                var state = await ReadStateAsync(stream, cancellationToken);
                if (state is not null && Matches(id, state))
                {
                    return state.ToSummary(id);
                }

                break;
            }
            catch (FileNotFoundException)
            {
                break;
            }
            catch (IOException)
            {
                // A save holds the lock for a few milliseconds.
                await Task.Delay(5, cancellationToken);
            }
        }

        try
        {
            return await LoadAsync(id, cancellationToken) is { } document ? SessionRecords.Summarize(document) : null;
        }
        catch (VoxonStorageException)
        {
            // A corrupt or vanished session is skipped in a listing; loading it reports the problem.
            return null;
        }
    }

    /// <summary>Reads snapshot then journal. Returns the session, the length of the journal's intact frames, and the snapshot length.</summary>
    private async Task<(SessionDocument? Document, long ValidJournal, long SnapshotLength)> ReadSessionAsync(string id, string operation, CancellationToken cancellationToken)
    {
        var snapshotBytes = await ReadIfExistsAsync(PathOf(id, Extension), operation, id, cancellationToken);
        var journalBytes = await ReadIfExistsAsync(PathOf(id, JournalExtension), operation, id, cancellationToken) ?? [];
        if (snapshotBytes is null)
        {
            return (null, 0, 0);
        }

        var (frames, valid) = FileJournal.Read(journalBytes);
        await _codec.PrepareAsync([snapshotBytes, .. frames.Select(f => f.Payload)], id, cancellationToken);
        var oldKey = false;
        var snapshot = SessionDocumentSerializer.Deserialize(_codec.Open(snapshotBytes, SnapshotContext(id), id, ref oldKey), BackendName, id);
        if (frames.Count == 0)
        {
            _codec.NoteKey(id, oldKey);
            return (snapshot, valid, snapshotBytes.Length);
        }

        var assembler = new SessionAssembler(BackendName, id);
        assembler.Seed(snapshot);
        foreach (var (version, payload) in frames)
        {
            if (version <= assembler.Version)
            {
                continue; // written before the snapshot that replaced it
            }

            if (version != assembler.Version + 1)
            {
                throw new SessionCorruptException(BackendName, id, $"the journal jumps from version {assembler.Version} to {version}");
            }

            List<SessionRecord> records;
            try
            {
                records = FileJournal.DecodeRecords(_codec.Open(payload, JournalContext(id, version), id, ref oldKey));
            }
            catch (FormatException ex)
            {
                throw new SessionCorruptException(BackendName, id, ex.Message, ex);
            }

            foreach (var record in records)
            {
                assembler.Apply(record);
            }
        }

        _codec.NoteKey(id, oldKey);
        return (assembler.Build(), valid, snapshotBytes.Length);
    }

    private async Task WriteSnapshotAsync(FileStream handle, SessionDocument document, CancellationToken cancellationToken)
    {
        var id = document.SessionId;
        var key = await _codec.KeyForAsync(document.UserId, "save", cancellationToken);
        var bytes = _codec.Seal(SessionDocumentSerializer.Serialize(document), SnapshotContext(id), key);
        await WriteAtomicallyAsync(PathOf(id, Extension), bytes, "save", id, cancellationToken);
        try
        {
            // Frames up to this version are now in the snapshot; load skips any left by a crash here.
            File.Delete(PathOf(id, JournalExtension));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure("save", id, PathOf(id, JournalExtension), ex);
        }

        await WriteStateAsync(handle, FileSessionState.Of(document, bytes.Length, 0), cancellationToken);
    }

    private static string SnapshotContext(string id) => id + "/snapshot";

    private static string JournalContext(string id, long version) => $"{id}/journal/{version}";

    private string PathOf(string sessionId, string extension)
    {
        SessionIds.Validate(sessionId);
        var path = Path.Combine(_folder, sessionId + extension);

        // Defence in depth: the id rules already forbid separators and leading dots.
        if (!string.Equals(Path.GetDirectoryName(path), _folder, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Invalid session id: '{sessionId}' would leave the storage folder.", nameof(sessionId));
        }

        return path;
    }

    /// <summary>A file system error. Not transient: a missing folder, a permission or a full disk stays until someone
    /// acts; the one transient case, another save holding the lock too long, is reported by the lock itself.</summary>
    private VoxonStorageException Failure(string operation, string? sessionId, string path, Exception ex) =>
        new(BackendName, operation, sessionId, $"could not access '{path}' ({(ex is UnauthorizedAccessException ? "permission denied" : ex.GetType().Name)}): {ex.Message}", false, ex);

    private static async Task<FileSessionState?> ReadStateAsync(FileStream stream, CancellationToken cancellationToken)
    {
        stream.Position = 0;
        var buffer = new byte[stream.Length];
        await stream.ReadExactlyAsync(buffer, cancellationToken);
        try
        {
            return buffer.Length == 0 ? null : JsonSerializer.Deserialize(buffer, VoxonJsonContext.Default.FileSessionState);
        }
        catch (JsonException)
        {
            return null; // torn by a crash: rebuilt from the files
        }
    }
}
