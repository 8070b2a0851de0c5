namespace Voxon.Engine;

/// <summary>The model could not produce an answer (unreachable endpoint, error status, empty reply, function calls that
/// kept failing or never ended). The turn is not recorded, so the conversation can retry it.</summary>
public sealed class EngineException : VoxonException
{
    /// <summary>Creates the exception.</summary>
    public EngineException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
