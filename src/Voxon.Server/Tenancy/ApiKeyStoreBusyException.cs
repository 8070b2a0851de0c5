namespace Voxon.Server.Tenancy;

/// <summary>The API key file was held by another writer (a running server or a <c>voxon keys</c> command) for longer
/// than a key change waits; nothing was changed and trying again shortly is expected to work.</summary>
public sealed class ApiKeyStoreBusyException : IOException
{
    /// <summary>Creates the exception for the key file at <paramref name="path"/>.</summary>
    public ApiKeyStoreBusyException(string path, Exception innerException)
        : base($"The API key file '{path}' is being changed by another process (a running server or another 'voxon keys' command) that held it for over 2 s; nothing was changed. Try again.", innerException)
    {
    }
}
