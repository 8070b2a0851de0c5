namespace Voxon.Storage;

/// <summary>
/// The storage contract every backend implements (file, PostgreSQL, Redis, or your own subclass).
/// Implementations must be safe to call from many sessions at once.
/// </summary>
/// <remarks>An abstract class rather than an interface so members can be added with defaults later.</remarks>
public abstract class SessionStorage : IAsyncDisposable
{
    /// <summary>Short name used in errors and telemetry (file, postgresql, redis...).</summary>
    public virtual string BackendName => GetType().Name;

    /// <summary>Stores <paramref name="document"/>, replacing the stored version of the session atomically:
    /// after a crash either the previous or the new version is loadable, never a mix.</summary>
    /// <exception cref="VoxonStorageException">The write failed.</exception>
    /// <remarks>The stored version must be <c>document.Version - 1</c>, or the session must not be stored yet;
    /// otherwise nothing is written and <see cref="SessionConcurrencyException"/> is thrown.</remarks>
    /// <exception cref="SessionConcurrencyException">Another save came in between.</exception>
    public abstract Task SaveAsync(SessionDocument document, CancellationToken cancellationToken = default);

    /// <summary>Stores a session that must not be stored yet, at the version <paramref name="document"/> has (an import
    /// keeps the exported version), atomically like <see cref="SaveAsync"/>: a session with this id, whatever its
    /// version, is never replaced.</summary>
    /// <remarks>The default, for custom backends, looks the id up and then saves, so a session stored between the two
    /// can still be replaced; the built-in backends override it with one atomic step.</remarks>
    /// <exception cref="SessionConcurrencyException">A session with this id is stored (<see cref="SessionConcurrencyException.ExpectedVersion"/> 0); nothing was written.</exception>
    /// <exception cref="VoxonStorageException">The write failed.</exception>
    public virtual async Task CreateAsync(SessionDocument document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (await LoadMetadataAsync(document.SessionId, cancellationToken) is { } stored)
        {
            throw new SessionConcurrencyException(BackendName, document.SessionId, 0, stored.Version);
        }

        await SaveAsync(document, cancellationToken);
    }

    /// <summary>Writes only what changed since the stored version <see cref="SessionChangeSet.BaseVersion"/>, atomically.
    /// The default writes the whole document with <see cref="SaveAsync"/>; backends override it to write the delta.</summary>
    /// <remarks>The stored version must be exactly <see cref="SessionChangeSet.BaseVersion"/> (for 0: the session must not be stored).</remarks>
    /// <exception cref="SessionConcurrencyException">The stored version is not the base version; nothing was written.</exception>
    /// <exception cref="VoxonStorageException">The write failed.</exception>
    public virtual Task SaveChangesAsync(SessionChangeSet changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return SaveAsync(changes.ToDocument(), cancellationToken);
    }

    /// <summary>Reads a session's metadata and conversation headers without memory entries or transcripts
    /// (lazy load); null when there is none. The default reads everything and drops what is not needed.</summary>
    /// <exception cref="SessionCorruptException">The stored session is unreadable.</exception>
    public virtual async Task<SessionDocument?> LoadMetadataAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        // Copies: a backend may hand out a document it keeps (an in-memory cache).
        if (await LoadAsync(sessionId, cancellationToken) is not { } document)
        {
            return null;
        }

        var metadata = document.WithoutContent();
        metadata.Conversations = [.. document.Conversations.Select(c => c.WithoutTurns())];
        return metadata;
    }

    /// <summary>Reads a session, or null when there is none with that id.</summary>
    /// <exception cref="SessionCorruptException">The stored session is unreadable.</exception>
    /// <exception cref="VoxonStorageException">The read failed.</exception>
    public abstract Task<SessionDocument?> LoadAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Restores the last consistent version of a session whose stored data is damaged (loading it throws
    /// <see cref="SessionCorruptException"/>), keeping the damaged data aside; does nothing to an intact session.
    /// The versions after the restored one are lost: this is an explicit decision, never taken by a load.</summary>
    /// <returns>What was done; null when there is no such session.</returns>
    /// <exception cref="SessionCorruptException">Nothing consistent is left to restore (e.g. the snapshot itself is damaged).</exception>
    /// <exception cref="NotSupportedException">The backend cannot repair sessions (the default).</exception>
    public virtual Task<SessionRepair?> RepairAsync(string sessionId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"The {BackendName} storage cannot repair sessions.");

    /// <summary>Deletes a session and its share records (a token must never open a later session that reuses the id); false when there was no session.</summary>
    public abstract Task<bool> DeleteAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Deletes a session like <see cref="DeleteAsync(string, CancellationToken)"/>, but only while its stored
    /// version is still <paramref name="expectedVersion"/>: a session saved since it was read (by retention, say) is kept.</summary>
    /// <returns>False when there was no session.</returns>
    /// <remarks>The default, for custom backends, reads the version and then deletes, so a save between the two still
    /// slips through; the built-in backends override it with one atomic step.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="expectedVersion"/> is not positive.</exception>
    /// <exception cref="SessionConcurrencyException">Another version is stored; nothing was deleted.</exception>
    /// <exception cref="VoxonStorageException">The delete failed.</exception>
    public virtual async Task<bool> DeleteAsync(string sessionId, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expectedVersion);
        if (await LoadMetadataAsync(sessionId, cancellationToken) is not { } stored)
        {
            return false;
        }

        return stored.Version == expectedVersion
            ? await DeleteAsync(sessionId, cancellationToken)
            : throw new SessionConcurrencyException(BackendName, "delete", sessionId, expectedVersion, stored.Version);
    }

    /// <summary>Lists stored sessions, all or those of <paramref name="userId"/>, most recently updated first.</summary>
    public abstract Task<IReadOnlyList<SessionSummary>> ListAsync(string? userId = null, CancellationToken cancellationToken = default);

    /// <summary>Stores a share record, replacing one with the same <see cref="ShareRecord.ShareId"/> (revocation saves it again).</summary>
    public abstract Task SaveShareAsync(ShareRecord share, CancellationToken cancellationToken = default);

    /// <summary>The share whose token hashes to <paramref name="tokenHash"/>, or null.</summary>
    public abstract Task<ShareRecord?> FindShareAsync(string tokenHash, CancellationToken cancellationToken = default);

    /// <summary>The shares of a session, revoked and expired ones included.</summary>
    public abstract Task<IReadOnlyList<ShareRecord>> ListSharesAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Stores a template by name, replacing one with the same name.</summary>
    public abstract Task SaveTemplateAsync(TemplateDocument template, CancellationToken cancellationToken = default);

    /// <summary>The template named <paramref name="name"/>, or null.</summary>
    public abstract Task<TemplateDocument?> LoadTemplateAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Names of the stored templates.</summary>
    public abstract Task<IReadOnlyList<string>> ListTemplatesAsync(CancellationToken cancellationToken = default);

    /// <summary>Rewrites every record of the store (sessions, their shares, templates) so each is sealed with the current
    /// encryption key: after it, older keys can be dropped from the configuration (<c>voxon store rotate-key</c>).
    /// Each session is written as a new version with the same content; a session open elsewhere merges it on its next
    /// save like a note. Unreadable records are skipped and reported (<see cref="RecordSkipped"/>), never lost.</summary>
    /// <returns>How many sessions, shares and templates were rewritten, and how many records were skipped.</returns>
    /// <exception cref="VoxonStorageException">The backend failed.</exception>
    public virtual async Task<StoreRewriteResult> RewriteAllAsync(CancellationToken cancellationToken = default)
    {
        int sessions = 0, shares = 0, templates = 0, skipped = 0;
        void Skip(SessionCorruptException ex)
        {
            skipped++;
            ReportSkipped(ex);
        }

        foreach (var summary in await ListAsync(null, cancellationToken))
        {
            try
            {
                for (var attempt = 1; await LoadAsync(summary.SessionId, cancellationToken) is { } document; attempt++)
                {
                    document.OwnerVersion ??= document.Version;
                    document.Version++;
                    try
                    {
                        await SaveAsync(document, cancellationToken);
                        sessions++;
                        break;
                    }
                    catch (SessionConcurrencyException) when (attempt < 3)
                    {
                        // Saved meanwhile: read it again.
                    }
                }

                foreach (var share in await ListSharesAsync(summary.SessionId, cancellationToken))
                {
                    await SaveShareAsync(share, cancellationToken);
                    shares++;
                }
            }
            catch (SessionCorruptException ex)
            {
                Skip(ex);
            }
        }

        foreach (var name in await ListTemplatesAsync(cancellationToken))
        {
            try
            {
                if (await LoadTemplateAsync(name, cancellationToken) is { } template)
                {
                    await SaveTemplateAsync(template, cancellationToken);
                    templates++;
                }
            }
            catch (SessionCorruptException ex)
            {
                Skip(ex);
            }
        }

        return new StoreRewriteResult(sessions, shares, templates, skipped);
    }

    /// <summary>Raised when a listing skips a stored record it cannot read (corrupt, or sealed with a key not
    /// configured): the listing goes on without it, and this says which one and why. <see cref="VoxonClient"/> logs it.</summary>
    public event EventHandler<SessionCorruptException>? RecordSkipped;

    /// <summary>Reports a record a listing skipped; call it instead of failing the whole listing.</summary>
    protected void ReportSkipped(SessionCorruptException problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        Diagnostics.VoxonTelemetry.SkippedRecords.Add(1);
        RecordSkipped?.Invoke(this, problem);
    }

    /// <summary>Whether this backend encrypts what it stores (built-in backends given a <see cref="SessionEncryption"/>).</summary>
    public virtual bool IsEncrypted => false;

    /// <summary>What an acknowledged save may not survive in this backend's setup (PostgreSQL with synchronous_commit off,
    /// a Redis server that keeps no append-only file), which the client logs when it warms up; null when nothing is
    /// known to be wrong.</summary>
    internal virtual Task<string?> DurabilityWarningAsync(CancellationToken cancellationToken) => Task.FromResult<string?>(null);

    /// <summary>
    /// Erases every record of <paramref name="userId"/>: sessions with their conversations, turns, memories and template
    /// bindings, the shares of those sessions, and the backend's journals, snapshots and index entries. With encryption,
    /// the user's data key is destroyed first, so copies of the records taken before (backups) no longer decrypt.
    /// Other users' records are untouched. A second call finds nothing and returns a receipt of zeros; a call interrupted
    /// by a crash is resumed and completed by the next one.
    /// </summary>
    /// <remarks>The default, for custom backends, deletes sessions through <see cref="DeleteAsync(string, CancellationToken)"/> and revokes their
    /// shares through <see cref="SaveShareAsync"/>; it cannot resume with the original counts. The built-in backends
    /// override it with the full procedure.</remarks>
    /// <exception cref="ArgumentException">The user id breaks the id rules.</exception>
    /// <exception cref="VoxonStorageException">The backend failed; call again to resume.</exception>
    public virtual Task<ErasureReceipt> EraseUserAsync(string userId, ErasureOptions? options = null, CancellationToken cancellationToken = default) =>
        UserErasure.RunAsync(this, userId, new UserErasure.Hooks(), options, cancellationToken);

    /// <summary>Rewraps every user's data key with the current master key after a key rotation, without re-encrypting
    /// any data; returns how many keys were rewrapped. Keys are also rewrapped one by one as they are used.
    /// The default (no key ring) does nothing.</summary>
    public virtual Task<int> RewrapKeysAsync(CancellationToken cancellationToken = default) => Task.FromResult(0);

    /// <summary>Whether <see cref="DisposeAsync"/> has run: every later operation must fail with <see cref="Disposed"/>.</summary>
    protected bool IsDisposed => Volatile.Read(ref _disposed);

    private bool _disposed;

    /// <summary>The error for an operation on a disposed storage, instead of a driver's <see cref="ObjectDisposedException"/>.</summary>
    protected VoxonStorageException Disposed(string operation, string? sessionId, Exception? innerException = null) =>
        new(BackendName, operation, sessionId, "the storage was disposed (with the VoxonClient that owns it); create a new client to go on", innerException: innerException);

    /// <summary>Throws <see cref="Disposed"/> when the storage was disposed.</summary>
    protected void ThrowIfDisposed(string operation, string? sessionId)
    {
        if (IsDisposed)
        {
            throw Disposed(operation, sessionId);
        }
    }

    /// <inheritdoc />
    /// <remarks>Marks the storage disposed; an override releases its resources and calls this.</remarks>
    public virtual ValueTask DisposeAsync()
    {
        Volatile.Write(ref _disposed, true);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
