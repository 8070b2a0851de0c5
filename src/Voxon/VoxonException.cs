namespace Voxon;

/// <summary>Base type of every error Voxon raises on purpose; catch it to handle all of them.</summary>
public class VoxonException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public VoxonException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public VoxonException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
