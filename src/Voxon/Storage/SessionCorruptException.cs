namespace Voxon.Storage;

/// <summary>A stored session is unreadable: truncated, not valid JSON, of the wrong shape, or failing validation.
/// Nothing of it is loaded.</summary>
public sealed class SessionCorruptException : VoxonStorageException
{
    /// <summary>Creates the exception.</summary>
    public SessionCorruptException(string backend, string sessionId, string problem, Exception? innerException = null)
        : base(backend, "load", sessionId, $"the stored session is corrupt ({problem}); it was not loaded", false, innerException)
    {
    }
}
