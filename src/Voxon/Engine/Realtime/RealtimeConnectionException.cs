namespace Voxon.Engine.Realtime;

/// <summary>The realtime connection failed or dropped, or the realtime conversation stopped on an unexpected error
/// (its <see cref="Exception.InnerException"/>). Every turn recorded before the failure is kept in the
/// conversation (and saved with the session); start a new voice conversation to go on.</summary>
public sealed class RealtimeConnectionException : VoxonException
{
    /// <summary>Creates the exception.</summary>
    public RealtimeConnectionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
