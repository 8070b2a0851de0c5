namespace Voxon.Storage;

/// <summary>
/// A save was based on a version of the session that is no longer the stored one: another process (or another
/// copy of the session) saved in between. Nothing was written. Load the session again, reapply the change, save.
/// Every backend raises it the same way.
/// </summary>
public sealed class SessionConcurrencyException : VoxonStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="backend">The backend that refused the save.</param>
    /// <param name="sessionId">The session.</param>
    /// <param name="expectedVersion">The stored version the save was based on (0 for a new session).</param>
    /// <param name="actualVersion">The version actually stored; null when the session is not stored (deleted).</param>
    public SessionConcurrencyException(string backend, string sessionId, long expectedVersion, long? actualVersion)
        : this(backend, "save", sessionId, expectedVersion, actualVersion)
    {
    }

    /// <summary>Creates the exception for <paramref name="operation"/> (save, or delete for a delete conditional on a
    /// version, <see cref="SessionStorage.DeleteAsync(string, long, CancellationToken)"/>).</summary>
    /// <param name="backend">The backend that refused the operation.</param>
    /// <param name="operation">save or delete.</param>
    /// <param name="sessionId">The session.</param>
    /// <param name="expectedVersion">The stored version the operation was based on (0 for a new session).</param>
    /// <param name="actualVersion">The version actually stored; null when the session is not stored (deleted).</param>
    public SessionConcurrencyException(string backend, string operation, string sessionId, long expectedVersion, long? actualVersion)
        : base(backend, operation, sessionId, operation == "delete" ? DescribeDelete(expectedVersion, actualVersion) : Describe(expectedVersion, actualVersion))
    {
        ExpectedVersion = expectedVersion;
        ActualVersion = actualVersion;
    }

    /// <summary>The stored version the rejected save was based on (0 for a session never saved).</summary>
    public long ExpectedVersion { get; }

    /// <summary>The stored version found; null when the session is no longer stored.</summary>
    public long? ActualVersion { get; }

    private static string DescribeDelete(long expected, long? actual) =>
        $"the delete was meant for version {expected} but version {actual} is stored (saved since it was read); nothing was deleted";

    private static string Describe(long expected, long? actual) => actual switch
    {
        null => $"the save was based on version {expected} but the session is no longer stored (deleted); nothing was written",
        _ when expected == 0 => $"a session with this id is already stored (version {actual}); nothing was written. Load it instead of creating it",
        // Versions only grow: an older stored version was not written by another saver.
        _ when actual < expected => $"the save was based on version {expected} but the older version {actual} is stored (the stored session went back: damaged, restored from a backup, or deleted and created again); nothing was written. Load the session again, check it, reapply the change and save",
        _ => $"the save was based on version {expected} but version {actual} is stored (another process saved in between); nothing was written. Load the session again, reapply the change and save",
    };
}
