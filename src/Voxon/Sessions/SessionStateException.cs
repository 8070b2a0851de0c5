namespace Voxon.Sessions;

/// <summary>An operation was attempted on a session or conversation in a state that forbids it
/// (a closed session, an ended conversation, an unknown conversation id).</summary>
public sealed class SessionStateException : VoxonException
{
    /// <summary>Creates the exception.</summary>
    public SessionStateException(string message)
        : base(message)
    {
    }
}
