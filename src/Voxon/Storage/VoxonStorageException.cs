namespace Voxon.Storage;

/// <summary>A storage operation failed. Names the backend and the operation; <see cref="IsTransient"/> tells whether a retry may succeed.</summary>
public class VoxonStorageException : VoxonException
{
    /// <summary>Creates the exception.</summary>
    public VoxonStorageException(string backend, string operation, string? sessionId, string message, bool isTransient = false, Exception? innerException = null)
        : base($"{backend} storage, {operation}{(sessionId is null ? string.Empty : $" of session '{sessionId}'")}: {message}", innerException)
    {
        Backend = backend;
        Operation = operation;
        SessionId = sessionId;
        IsTransient = isTransient;
    }

    /// <summary>The backend (file, postgresql, redis, or a custom name).</summary>
    public string Backend { get; }

    /// <summary>The operation (save, load, delete, list).</summary>
    public string Operation { get; }

    /// <summary>The session concerned, if any.</summary>
    public string? SessionId { get; }

    /// <summary>Whether the failure may go away on retry (a timeout, a dropped connection).</summary>
    public bool IsTransient { get; }
}
