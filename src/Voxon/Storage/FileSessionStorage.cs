using System.Buffers;
using System.Runtime.CompilerServices;
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

    private readonly string _folder;
    private readonly SessionRecordCodec _codec;

    /// <summary>Uses <paramref name="folder"/>, creating it on first save.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="encryption">Encrypts everything stored; null stores plain JSON.</param>
    /// <exception cref="ArgumentException"><paramref name="folder"/> is empty, or is a file.</exception>
    public FileSessionStorage(string folder, SessionEncryption? encryption = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        _folder = Path.GetFullPath(folder);
        if (File.Exists(_folder))
        {
            throw new ArgumentException($"The session storage folder '{_folder}' is a file; file storage needs a folder (made if missing).", nameof(folder));
        }

        _codec = new SessionRecordCodec("file", encryption, new FileKeyRingStore(_folder));
    }

    /// <inheritdoc />
    public override string BackendName => "file";

    /// <summary>The absolute folder the sessions live in.</summary>
    public string Folder => _folder;

    /// <summary>Journal size past which a save compacts it into a new snapshot (at least half the snapshot's size). Default 1 MiB.</summary>
    internal long CompactionThreshold { get; set; } = 1 << 20;

    /// <summary>The journal size past which a save compacts it, beside a snapshot of <paramref name="snapshotLength"/> bytes.</summary>
    internal long JournalLimit(long snapshotLength) => Math.Max(CompactionThreshold, snapshotLength / 2);

    /// <summary>How long a save waits for another process's lock on the session. Default 10 s.</summary>
    internal TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Test hook: runs after a temporary file is written and flushed, before it replaces the target.</summary>
    internal Action<string>? BeforeCommit { get; set; }

    /// <inheritdoc />
    public override Task SaveAsync(SessionDocument document, CancellationToken cancellationToken = default) =>
        SaveAsync(document, createOnly: false, cancellationToken);

    /// <inheritdoc />
    public override Task CreateAsync(SessionDocument document, CancellationToken cancellationToken = default) =>
        SaveAsync(document, createOnly: true, cancellationToken);

    private async Task SaveAsync(SessionDocument document, bool createOnly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        var id = SessionIds.Validate(document.SessionId);
        await using var handle = await LockAsync(id, "save", cancellationToken);
        var state = await CurrentStateAsync(handle, id, cancellationToken);
        if (state.Version != 0 && (createOnly || state.Version != document.Version - 1))
        {
            throw new SessionConcurrencyException(BackendName, id, createOnly ? 0 : document.Version - 1, state.Version);
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

        if (changes.BaseVersion == 0 || _codec.TakeRewrite(id) || state.JournalLength > JournalLimit(state.SnapshotLength))
        {
            // First save, a session read with an old key, or a long journal: one new snapshot.
            await WriteSnapshotAsync(handle, changes.ToDocument(), cancellationToken);
            return;
        }

        var key = await _codec.KeyForAsync(changes.Head.UserId, "save", cancellationToken);
        var records = SessionRecords.Encode(changes);
        byte[] Section(string name, Func<SessionRecord, bool> holds) => SealRecords(records.Where(holds), JournalContext(id, changes.Version, name), key);
        var older = FileJournal.WriteOlderFormat.Value;
        var frame = older == FileJournal.OlderFormat.Records
            ? FileJournal.LegacyFrame(changes.Version, SealRecords(records, JournalContext(id, changes.Version), key))
            : FileJournal.Frame(
                changes.Version,
                Section("conversations", r => r.Kind == RecordKind.Conversation),
                Section("head", r => r.Kind == RecordKind.Head),
                Section("content", r => !FileSnapshot.IsMeta(r)),
                sha256: older == FileJournal.OlderFormat.Sha256Sections);
        var journal = PathOf(id, JournalExtension);
        long length;
        try
        {
            await using var stream = new FileStream(journal, FileMode.Append, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
            await stream.WriteAsync(frame, cancellationToken);
            stream.Flush(flushToDisk: true);
            length = stream.Length;
            if (length == frame.Length)
            {
                DurableFolder.Flush(_folder); // this append made the journal: its entry in the folder too
            }
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
        var id = SessionIds.Validate(sessionId);

        // Under a shared lock: no save runs between reading the acknowledged version and the files.
        await using var handle = await SharedLockAsync(id, cancellationToken);
        var state = handle is null ? null : await ReadStateAsync(handle, cancellationToken);
        var (document, _, _) = await ReadSessionAsync(id, "load", state?.Version ?? 0, cancellationToken);
        return document;
    }

    /// <inheritdoc />
    /// <remarks>Reads the snapshot's header and meta section (head and conversation headers) and of the journal each
    /// frame's headers and conversation headers and the last frame whole, not the memory and turn records (nor the
    /// superseded heads) that make up most of the files.</remarks>
    public override async Task<SessionDocument?> LoadMetadataAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var id = SessionIds.Validate(sessionId);
        await using var handle = await SharedLockAsync(id, cancellationToken);
        var state = handle is null ? null : await ReadStateAsync(handle, cancellationToken);
        var (document, _, _) = await ReadSessionAsync(id, "load", state?.Version ?? 0, cancellationToken, metadataOnly: true);
        return document;
    }

    /// <summary>Bytes of snapshots and journals read so far (lazy loading reads only a small part of them).</summary>
    internal long SessionBytesRead => Interlocked.Read(ref _sessionBytesRead);

    private long _sessionBytesRead;

    /// <inheritdoc />
    /// <remarks>Keeps the snapshot and the journal frames up to the first damaged one, moves the damaged journal to
    /// <c>ID.journal.damaged-*</c> beside it, and writes the restored version as a new snapshot.</remarks>
    public override async Task<SessionRepair?> RepairAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var id = SessionIds.Validate(sessionId);
        if (!File.Exists(PathOf(id, Extension)))
        {
            return null;
        }

        await using var handle = await LockAsync(id, "repair", cancellationToken);
        var acknowledged = (await ReadStateAsync(handle, cancellationToken))?.Version ?? 0;
        var replay = await ReplayAsync(id, "repair", eachVersion: true, cancellationToken);
        if (replay.Document is not { } document)
        {
            return null;
        }

        var problem = replay.Damage?.Problem
            ?? (document.Version < acknowledged ? $"version {acknowledged} was stored but the files hold only up to version {document.Version}" : null);
        if (problem is null)
        {
            return new SessionRepair(id, false, document.Version, acknowledged, null, null);
        }

        var journal = PathOf(id, JournalExtension);
        string? copy = null;
        if (File.Exists(journal))
        {
            copy = journal + ".damaged-" + Guid.NewGuid().ToString("N")[..8];
            try
            {
                File.Copy(journal, copy);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Failure("repair", id, copy, ex);
            }
        }

        await WriteSnapshotAsync(handle, document, cancellationToken);
        return new SessionRepair(id, true, document.Version, acknowledged, problem, copy);
    }

    /// <inheritdoc />
    public override Task<bool> DeleteAsync(string sessionId, CancellationToken cancellationToken = default) =>
        DeleteAsync(sessionId, null, cancellationToken);

    /// <inheritdoc />
    public override Task<bool> DeleteAsync(string sessionId, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expectedVersion);
        return DeleteAsync(sessionId, (long?)expectedVersion, cancellationToken);
    }

    private async Task<bool> DeleteAsync(string sessionId, long? expectedVersion, CancellationToken cancellationToken)
    {
        var id = SessionIds.Validate(sessionId);
        if (!File.Exists(PathOf(id, Extension)) && !File.Exists(PathOf(id, LockExtension)))
        {
            return false;
        }

        await using var handle = await LockAsync(id, "delete", cancellationToken);
        if (expectedVersion is { } expected && (await CurrentStateAsync(handle, id, cancellationToken)).Version is var stored and not 0 && stored != expected)
        {
            // Checked under the lock a save takes: no save slips in before the files go.
            throw new SessionConcurrencyException(BackendName, "delete", id, expected, stored);
        }

        var snapshot = PathOf(id, Extension);
        try
        {
            // Shares first: a token must never outlive its session (and open a later session with the same id).
            await DeleteSharesAsync(id, cancellationToken);

            // No version acknowledged any more: a delete cut short reads as deleted, never as a lost snapshot.
            await WriteStateAsync(handle, new FileSessionState(), cancellationToken);
            var existed = File.Exists(snapshot);
            File.Delete(snapshot);
            File.Delete(PathOf(id, JournalExtension));
            File.Delete(PathOf(id, LockExtension));
            DurableFolder.Flush(_folder); // a deleted (erased) session must not come back after a power loss
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
        catch (SessionCorruptException ex)
        {
            // Skipped and reported: one bad session must not break the listing of the others.
            ReportSkipped(ex);
            return null;
        }
        catch (VoxonStorageException)
        {
            // Vanished (deleted while listing): skipped; loading it reports any other problem.
            return null;
        }
    }

    /// <summary>Reads snapshot then journal: the session, the journal length to keep (0 when the whole journal is
    /// stale, left by a crash after the snapshot that replaced it), and the snapshot length.</summary>
    /// <param name="id">The session.</param>
    /// <param name="operation">For errors.</param>
    /// <param name="acknowledged">The version the lock file says was stored (0 when unknown): anything older is corruption.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="SessionCorruptException">A damaged snapshot or journal frame, or less than the acknowledged version.</exception>
    /// <param name="metadataOnly">Read only what a metadata load needs, and return the session without memory and turns.</param>
    private async Task<(SessionDocument? Document, long KeptJournal, long SnapshotLength)> ReadSessionAsync(string id, string operation, long acknowledged, CancellationToken cancellationToken, bool metadataOnly = false)
    {
        var read = await ReplayAsync(id, operation, eachVersion: false, cancellationToken, metadataOnly);
        if (read.Damage is { } damage)
        {
            throw new SessionCorruptException(BackendName, id, damage.Problem + RepairHint(id));
        }

        if (read.Document is null && acknowledged > 0)
        {
            // Delete clears the acknowledged version first, so a missing snapshot behind one is lost data, not a deletion.
            throw new SessionCorruptException(BackendName, id, $"version {acknowledged} was stored but its snapshot file is missing");
        }

        if (read.Document is not null && read.Document.Version < acknowledged)
        {
            throw new SessionCorruptException(BackendName, id,
                $"version {acknowledged} was stored but the files hold only up to version {read.Document.Version} (the journal ends at byte {read.ValidJournal}){RepairHint(id)}");
        }

        _codec.NoteKey(id, read.OldKey);
        return (read.Document, read.Stale ? 0 : read.ValidJournal, read.SnapshotLength);
    }

    private static string RepairHint(string id) => $"; `voxon sessions repair {id}` restores the last consistent version";

    /// <summary>Replays snapshot and journal up to the first damage, which is returned rather than thrown (repair
    /// keeps what comes before it). Every frame is authenticated, including those the snapshot already covers.</summary>
    /// <param name="id">The session.</param>
    /// <param name="operation">For errors.</param>
    /// <param name="eachVersion">Check that every version the journal passes through is a whole, valid session (repair).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="SessionCorruptException">The snapshot is unreadable.</exception>
    /// <param name="metadataOnly">Skip the snapshot's content section and the journal's memory and turn records.</param>
    private async Task<JournalReplay> ReplayAsync(string id, string operation, bool eachVersion, CancellationToken cancellationToken, bool metadataOnly = false)
    {
        var snapshot = ReadSnapshot(id, operation, metadataOnly, cancellationToken); // synchronous, like ReadIfExists
        (byte[] Buffer, int Read) journal = ([], 0);
        JournalFileParts? parts = null;
        try
        {
            if (snapshot is not var (buffer, read, storedLength, owned))
            {
                return new JournalReplay(null, 0, 0, false, false, null); // not stored, or deleted
            }

            JournalRead frames;
            if (metadataOnly)
            {
                frames = ReadJournalMetadata(id, operation, ref parts);
            }
            else
            {
                journal = ReadJournal(id, operation, cancellationToken);
                frames = FileJournal.Read(journal.Buffer.AsMemory(0, journal.Read));
            }

            return await ReplayAsync(id, buffer.AsMemory(0, read), storedLength, owned, frames, eachVersion, metadataOnly, cancellationToken);
        }
        finally
        {
            // Everything decoded from them was copied out (strings, vectors, the last head), but for the vectors kept
            // in a buffer of the load's own.
            if (snapshot is (var buffer, _, _, Owned: false) && buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (journal.Buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(journal.Buffer);
            }

            parts?.Dispose();
        }
    }

    private async Task<JournalReplay> ReplayAsync(string id, ReadOnlyMemory<byte> stored, long storedLength, bool owned, JournalRead journal, bool eachVersion, bool metadataOnly, CancellationToken cancellationToken)
    {
        var (frames, valid, damage) = journal;
        await _codec.PrepareKeysAsync([.. SnapshotKeyIds(stored.Span), .. frames.SelectMany(SectionKeyIds)], id, cancellationToken);
        var oldKey = false;
        var assembler = new SessionAssembler(BackendName, id) { MetadataOnly = metadataOnly };
        var snapshotVersion = ApplySnapshot(assembler, stored, storedLength, owned, id, metadataOnly, ref oldKey);
        var withContent = !metadataOnly;
        SessionDocument? good = eachVersion ? assembler.Build(withContent) : null;
        long? previous = null;
        var kept = 0L;
        foreach (var frame in frames)
        {
            // Versions rise by one from frame to frame. Frames the snapshot covers (left by a crash between writing it
            // and deleting the journal) may only come first.
            var covered = frame.Version <= snapshotVersion;
            if (covered ? previous is { } before && frame.Version != before + 1 : frame.Version != Math.Max(previous ?? 0, snapshotVersion) + 1)
            {
                damage = (frame.Offset, $"the journal frame at byte {frame.Offset} has version {frame.Version} after version {previous ?? snapshotVersion}");
                break;
            }

            try
            {
                var target = covered ? null : assembler;
                if (!frame.Sectioned)
                {
                    ApplyRecords(target, _codec.OpenSlice(frame.Content!.Value, JournalContext(id, frame.Version), id, ref oldKey).Span);
                }
                else
                {
                    // A lazy load reads the head of the last frame only: each head is the whole session's metadata.
                    ApplyRecords(target, _codec.OpenSlice(frame.Conversations, JournalContext(id, frame.Version, "conversations"), id, ref oldKey).Span);
                    if (frame.Head is { } head)
                    {
                        ApplyRecords(target, _codec.OpenSlice(head, JournalContext(id, frame.Version, "head"), id, ref oldKey).Span);
                    }

                    if (frame.Content is { } content && !metadataOnly)
                    {
                        ApplyRecords(target, _codec.OpenSlice(content, JournalContext(id, frame.Version, "content"), id, ref oldKey).Span);
                    }
                }

                if (!covered)
                {
                    if (frame.HeadRead && assembler.Version != frame.Version)
                    {
                        throw new FormatException($"its head has version {assembler.Version}");
                    }

                    if (eachVersion)
                    {
                        good = assembler.Build(withContent)!;
                    }
                }
            }
            catch (Exception ex) when (ex is FormatException or SessionCorruptException)
            {
                damage = (frame.Offset, $"the journal frame at byte {frame.Offset} (version {frame.Version}) is damaged: {ex.Message}");
                break;
            }

            previous = frame.Version;
            kept = frame.Offset + frame.Length;
        }

        if (damage is null && assembler.Version != Math.Max(previous ?? 0, snapshotVersion))
        {
            // Every frame's head is read but for a lazy load's, which reads the last one: it must have been.
            damage = (kept, $"the journal's last head has version {assembler.Version}, its last frame {previous}");
        }

        if (damage is not null)
        {
            return new JournalReplay(good, kept, storedLength, oldKey, false, damage);
        }

        try
        {
            good = assembler.Build(withContent)!;
        }
        catch (SessionCorruptException ex)
        {
            return new JournalReplay(good, kept, storedLength, oldKey, false, (kept, "the journal's last version is not a whole session: " + ex.Message));
        }

        var stale = frames.Count > 0 && previous <= snapshotVersion;
        return new JournalReplay(good, valid, storedLength, oldKey, stale, null);
    }

    /// <summary>The key ids of a journal frame's sealed sections that were read.</summary>
    private static IEnumerable<string?> SectionKeyIds(JournalFrame frame) =>
        from section in (ReadOnlyMemory<byte>?[])[frame.Conversations, frame.Head, frame.Content]
        where section is not null
        select SessionEncryption.KeyIdOf(section.Value.Span);

    /// <summary>The snapshot's bytes (only header and meta section when <paramref name="metadataOnly"/> and the snapshot
    /// is binary), the file's length, and whether the buffer is the load's own (a large plaintext content section,
    /// whose vectors the entries keep where they are read: <see cref="KeptContentBytes"/>) rather than pooled; null
    /// when there is no snapshot.</summary>
    private (byte[] Buffer, int Read, long FileLength, bool Owned)? ReadSnapshot(string id, string operation, bool metadataOnly, CancellationToken cancellationToken) =>
        ReadPooled(PathOf(id, Extension), operation, id, cancellationToken, (header, fileLength) => SnapshotRead(header, fileLength, metadataOnly, plaintext: _codec.Encryption is null));

    /// <summary>Content sections from this size up (about 2,000 memories with embeddings of 384 dimensions) are read
    /// (plaintext) or opened (sealed) into an array of the load's own, and the entries keep their vectors in it
    /// (<see cref="StoredVectors"/>). Smaller ones are read into pooled buffers and their vectors copied into small
    /// blocks, which cost less than the fresh pages of an array that size (<see cref="SessionAssembler.ApplyMemoryRecords"/>).</summary>
    internal const int KeptContentBytes = 3 * 1024 * 1024;

    /// <summary>How much of a snapshot to read (only up to the end of the meta section, for a metadata load of a binary
    /// snapshot, else the whole file: a legacy snapshot is one JSON document, and a damaged header is read whole to fail
    /// in ApplySnapshot), and whether into a buffer of the load's own.</summary>
    private static (long Size, bool Own) SnapshotRead(ReadOnlySpan<byte> header, long fileLength, bool metadataOnly, bool plaintext)
    {
        try
        {
            if (!FileSnapshot.IsBinary(header))
            {
                return (fileLength, false);
            }

            var parsed = FileSnapshot.ReadHeader(header, fileLength);
            return metadataOnly
                ? (FileSnapshot.HeaderSize + parsed.MetaLength, false)
                : (fileLength, plaintext && parsed.ContentLength >= KeptContentBytes);
        }
        catch (FormatException)
        {
            return (fileLength, false);
        }
    }

    /// <summary>The journal's bytes; an empty buffer when there is none.</summary>
    private (byte[] Buffer, int Read) ReadJournal(string id, string operation, CancellationToken cancellationToken) =>
        ReadPooled(PathOf(id, JournalExtension), operation, id, cancellationToken) is var (buffer, read, _, _) ? (buffer, read) : ([], 0);

    /// <summary>The journal's frames as a lazy load needs them (<see cref="FileJournal.ReadMetadata"/>): frame headers
    /// and conversations, and the last head, so that what was saved since the snapshot stays unread. Their bytes are in
    /// <paramref name="parts"/>, which the caller disposes; no frames when there is no journal.</summary>
    private JournalRead ReadJournalMetadata(string id, string operation, ref JournalFileParts? parts)
    {
        var path = PathOf(id, JournalExtension);
        try
        {
            var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            parts = new JournalFileParts(file, RandomAccess.GetLength(file));
            return FileJournal.ReadMetadata(parts);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return new([], 0, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure(operation, id, path, ex);
        }
        finally
        {
            Interlocked.Add(ref _sessionBytesRead, parts?.BytesRead ?? 0);
        }
    }

    /// <summary>A session file's bytes, up to where <paramref name="wanted"/> says from its first bytes and its length
    /// (the whole file when null), in the first <c>Read</c> bytes of a buffer rented from <see cref="ArrayPool{T}.Shared"/>:
    /// the caller returns it, so a load allocates no buffer the size of its files. Or, where <paramref name="wanted"/>
    /// says so, in an uninitialized array of the caller's own (<c>Owned</c>), which the read fills whole. Null when the
    /// file does not exist.</summary>
    private (byte[] Buffer, int Read, long FileLength, bool Owned)? ReadPooled(string path, string operation, string id, CancellationToken cancellationToken, Func<ReadOnlySpan<byte>, long, (long Size, bool Own)>? wanted = null)
    {
        byte[]? buffer = null;
        var owned = false;
        try
        {
            // Synchronous: a local file read from the page cache takes less than the thread-pool hop an async read costs.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
            var length = stream.Length;
            Span<byte> header = stackalloc byte[FileSnapshot.HeaderSize];
            cancellationToken.ThrowIfCancellationRequested();
            header = header[..(int)Math.Min(length, FileSnapshot.HeaderSize)];
            stream.ReadExactly(header);
            (var size, owned) = wanted?.Invoke(header, length) ?? (length, false);
            size = Math.Max(size, header.Length);
            if (size > Array.MaxLength)
            {
                throw new IOException($"the file is {size} bytes, more than one buffer holds");
            }

            buffer = owned ? GC.AllocateUninitializedArray<byte>((int)size) : ArrayPool<byte>.Shared.Rent((int)size);
            header.CopyTo(buffer);
            stream.ReadExactly(buffer.AsSpan(header.Length, (int)size - header.Length));
            Interlocked.Add(ref _sessionBytesRead, size);
            return (buffer, (int)size, length, owned);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (buffer is not null && !owned)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            throw Failure(operation, id, path, ex);
        }
    }

    /// <summary>The key ids of a snapshot's sealed parts (to fetch their data keys first).</summary>
    private static List<string?> SnapshotKeyIds(ReadOnlySpan<byte> stored)
    {
        if (!FileSnapshot.IsBinary(stored) || stored.Length < FileSnapshot.HeaderSize)
        {
            return [SessionEncryption.KeyIdOf(stored)];
        }

        var ids = new List<string?> { SessionEncryption.KeyIdOf(stored[FileSnapshot.HeaderSize..]) };
        try
        {
            var header = FileSnapshot.ReadHeader(stored, stored.Length);
            ids.Add(SessionEncryption.KeyIdOf(stored[header.ContentOffset..]));
        }
        catch (FormatException)
        {
            // Only the meta section was read, or the header is damaged (reported when the snapshot is applied).
        }

        return ids;
    }

    /// <summary>Applies a snapshot to <paramref name="assembler"/>; returns its version. When <paramref name="owned"/>,
    /// <paramref name="stored"/> is an array of the load's own, where entries may keep their vectors.</summary>
    /// <exception cref="SessionCorruptException">The snapshot is damaged.</exception>
    private long ApplySnapshot(SessionAssembler assembler, ReadOnlyMemory<byte> stored, long fileLength, bool owned, string id, bool metadataOnly, ref bool oldKey)
    {
        if (!FileSnapshot.IsBinary(stored.Span))
        {
            var legacy = SessionDocumentSerializer.Deserialize(_codec.Open(stored.ToArray(), LegacySnapshotContext(id), id, ref oldKey), BackendName, id);
            assembler.Seed(legacy);
            return legacy.Version;
        }

        try
        {
            var header = FileSnapshot.ReadHeader(stored.Span, fileLength);
            var meta = stored.Slice(FileSnapshot.HeaderSize, (int)header.MetaLength);
            FileSnapshot.Verify(meta.Span, header.MetaHash, "meta");
            ApplyRecords(assembler, _codec.OpenSlice(meta, FileSnapshot.Context(id, header.Version, "meta"), id, ref oldKey).Span);
            if (!metadataOnly)
            {
                var content = stored.Slice(header.ContentOffset, (int)header.ContentLength);
                var context = FileSnapshot.Context(id, header.Version, "content");
                if (!SessionEncryption.IsEnvelope(content.Span))
                {
                    VerifyWhileApplying(content, header.ContentHash, () => ApplyContent(assembler, content, keep: owned));
                }
                else
                {
                    // Authenticated as it is opened.
                    var keep = content.Length >= KeptContentBytes;
                    _codec.OpenPooled(content, context, id, ref oldKey, plaintext => ApplyContent(assembler, plaintext, keep), keep);
                }
            }

            return assembler.Version == header.Version
                ? header.Version
                : throw new FormatException($"its header has version {header.Version} but its head {assembler.Version}");
        }
        catch (FormatException ex)
        {
            throw new SessionCorruptException(BackendName, id, "the snapshot is damaged: " + ex.Message, ex);
        }
    }

    /// <summary>Content sections from this size up are hashed on another thread while they are decoded.</summary>
    internal const int ConcurrentHashThreshold = 256 * 1024;

    /// <summary>Checks a plaintext <paramref name="section"/> against its checksum on another thread while <paramref name="apply"/>
    /// decodes it (hashing was an eighth of a 1,000-memory load); a failed checksum is reported ahead of whatever decoding
    /// the damaged bytes threw. Decoders are safe on damaged bytes: every length is checked against the section.</summary>
    /// <exception cref="FormatException">The section fails its checksum, or does not decode.</exception>
    private static void VerifyWhileApplying(ReadOnlyMemory<byte> section, ulong expected, Action apply)
    {
        if (section.Length < ConcurrentHashThreshold)
        {
            // Hashed in microseconds: less than handing it to another thread costs.
            FileSnapshot.Verify(section.Span, expected, "content");
            apply();
            return;
        }

        var check = Task.Run(() => FileSnapshot.Verify(section.Span, expected, "content"));
        try
        {
            apply();
        }
        catch (Exception ex)
        {
            // The section is a pooled buffer, returned once the load ends: the hash must be done with it by then.
            try
            {
                check.Wait();
            }
            catch (AggregateException failed) when (failed.InnerException is FormatException damaged && ex is FormatException or SessionCorruptException)
            {
                throw damaged;
            }
            catch (AggregateException)
            {
                // The decoding error stands.
            }

            throw;
        }

        check.GetAwaiter().GetResult();
    }

    /// <summary>Applies a snapshot's content section: turns in order, memory records decoded together (in parallel),
    /// their vectors kept where they are when <paramref name="keep"/> (the section is in an array of the load's own).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once a load: unoptimized code until tiering replaced it
    private static void ApplyContent(SessionAssembler assembler, ReadOnlyMemory<byte> records, bool keep)
    {
        var memories = new List<(int Offset, int Length)>();
        var reader = new RecordReader(records.Span);
        while (reader.Next(out var kind, out var key, out var index, out var payload))
        {
            if (kind == RecordKind.Memory)
            {
                memories.Add((reader.Position - payload.Length, payload.Length));
            }
            else
            {
                assembler.Apply(kind, key, index, payload);
            }
        }

        assembler.ApplyMemoryRecords(records, memories, keep);
    }

    /// <summary>Applies a record list to <paramref name="assembler"/>, or only checks that it is well formed when null.</summary>
    /// <exception cref="FormatException">The list is malformed.</exception>
    /// <exception cref="SessionCorruptException">A record does not parse.</exception>
    private static void ApplyRecords(SessionAssembler? assembler, ReadOnlySpan<byte> records)
    {
        var reader = new RecordReader(records);
        while (reader.Next(out var kind, out var key, out var index, out var payload))
        {
            assembler?.Apply(kind, key, index, payload);
        }
    }

    private sealed record JournalReplay(SessionDocument? Document, long ValidJournal, long SnapshotLength, bool OldKey, bool Stale, (long Offset, string Problem)? Damage);

    private async Task WriteSnapshotAsync(FileStream handle, SessionDocument document, CancellationToken cancellationToken)
    {
        var id = document.SessionId;
        document.Records = RecordCounts.Of(document);
        var key = await _codec.KeyForAsync(document.UserId, "save", cancellationToken);
        var records = SessionRecords.Encode(document);
        var bytes = FileSnapshot.Write(
            document.Version,
            SealRecords(records.Where(FileSnapshot.IsMeta), FileSnapshot.Context(id, document.Version, "meta"), key),
            SealRecords(records.Where(r => !FileSnapshot.IsMeta(r)), FileSnapshot.Context(id, document.Version, "content"), key));
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

    /// <summary>A section of records (of a snapshot or a journal frame) as stored: encoded, and sealed with <paramref name="key"/> if any.</summary>
    private byte[] SealRecords(IEnumerable<SessionRecord> records, string context, SealingKey? key) =>
        _codec.Seal(FileJournal.EncodeRecords([.. records]), context, key);

    /// <summary>What a legacy (whole JSON) snapshot was sealed with.</summary>
    private static string LegacySnapshotContext(string id) => id + "/snapshot";

    /// <summary>What a journal frame (or, for a frame with sections, its <paramref name="section"/>) is sealed with.</summary>
    private static string JournalContext(string id, long version, string? section = null) =>
        section is null ? $"{id}/journal/{version}" : $"{id}/journal/{version}/{section}";

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

    private static Task<FileSessionState?> ReadStateAsync(FileStream stream, CancellationToken cancellationToken) =>
        Task.FromResult(ReadState(stream, cancellationToken));

    private static FileSessionState? ReadState(FileStream stream, CancellationToken cancellationToken)
    {
        stream.Position = 0;
        var buffer = new byte[stream.Length];
        cancellationToken.ThrowIfCancellationRequested();
        stream.ReadExactly(buffer); // synchronous, like ReadIfExists
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
