namespace Voxon.Migration;

/// <summary>A session export was refused by <see cref="VoxonClient.ImportSessionAsync(string, IReadOnlyDictionary{string, string}?, bool, CancellationToken)"/>:
/// too large, not JSON, another format or version, a checksum mismatch, the wrong shape, invalid or duplicate ids,
/// a bad user id mapping, or a session id already taken. Nothing was written.</summary>
public sealed class SessionImportException : VoxonException
{
    /// <summary>Creates the exception; <paramref name="problem"/> says what is wrong.</summary>
    public SessionImportException(string problem, Exception? innerException = null)
        : base($"Cannot import the session: {problem}. Nothing was written.", innerException)
    {
        Problem = problem;
    }

    /// <summary>What is wrong with the input.</summary>
    public string Problem { get; }
}
