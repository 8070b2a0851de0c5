namespace Voxon.Engine.Speech;

/// <summary>Speech could not be produced or recognised (the speech program is missing or failed, bad audio).</summary>
public sealed class SpeechException : VoxonException
{
    /// <summary>Creates the exception.</summary>
    public SpeechException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
