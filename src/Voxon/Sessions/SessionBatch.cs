namespace Voxon.Sessions;

/// <summary>A batch of changes to a session, from <see cref="Session.BatchUpdate"/>; ending it saves them in one write.</summary>
/// <remarks>End it once, on the thread that made the changes; a second end does nothing.</remarks>
public sealed class SessionBatch : IDisposable, IAsyncDisposable
{
    private readonly Session _session;
    private int _ended;

    internal SessionBatch(Session session) => _session = session;

    /// <summary>Ends the batch and, when it is the outermost, saves (blocking).</summary>
    /// <exception cref="Storage.VoxonStorageException">The save failed.</exception>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            _session.EndBatchAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    /// <summary>Ends the batch and, when it is the outermost, saves.</summary>
    /// <exception cref="Storage.VoxonStorageException">The save failed.</exception>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            await _session.EndBatchAsync(CancellationToken.None);
        }
    }
}
