namespace Voxon.Sessions;

/// <summary>No session with the given id exists in the configured storage.</summary>
public sealed class SessionNotFoundException : VoxonException
{
    /// <summary>Creates the exception for <paramref name="sessionId"/>.</summary>
    public SessionNotFoundException(string sessionId, string backend)
        : base($"Session '{sessionId}' was not found in {backend} storage.")
    {
        SessionId = sessionId;
    }

    /// <summary>The id that was looked up.</summary>
    public string SessionId { get; }
}
