namespace Voxon.Sharing;

/// <summary>A share token was refused. Expired, revoked, forged tokens and tokens used by the wrong user all give
/// this same exception and message, so a caller cannot tell which.</summary>
public sealed class InvalidShareTokenException : VoxonException
{
    /// <summary>The one message for every refusal.</summary>
    public const string Text = "invalid or expired share token";

    /// <summary>Creates the exception.</summary>
    public InvalidShareTokenException()
        : base(Text)
    {
    }
}
