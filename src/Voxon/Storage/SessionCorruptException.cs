namespace Voxon.Storage;

/// <summary>A stored session (or share or template record) is unreadable: truncated, not valid JSON, of the wrong shape,
/// failing validation, or sealed with a key not configured. Nothing of it is loaded; listings skip it and report it
/// (<see cref="SessionStorage.RecordSkipped"/>).</summary>
public sealed class SessionCorruptException : VoxonStorageException
{
    /// <summary>Creates the exception.</summary>
    public SessionCorruptException(string backend, string sessionId, string problem, Exception? innerException = null)
        : base(backend, "load", sessionId, $"the stored session is corrupt ({problem}); it was not loaded", false, innerException)
    {
    }

    private SessionCorruptException(string backend, string operation, string record, string problem, Exception? innerException)
        : base(backend, operation, null, $"the stored {record} is corrupt ({problem})", false, innerException)
    {
    }

    /// <summary>A stored record other than a session's (a share or a template) is unreadable.</summary>
    internal static SessionCorruptException OfRecord(string backend, string operation, string record, string problem, Exception? innerException = null) =>
        new(backend, operation, record, problem, innerException);
}
