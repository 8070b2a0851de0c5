namespace Voxon.Storage.Conformance;

/// <summary>Counts writes and loads, and keeps the change sets it forwards.</summary>
public sealed class CountingStorage(SessionStorage inner) : DelegatingSessionStorage(inner)
{
    private int _writes;
    private int _loads;

    public int Writes => _writes;

    public int Loads => _loads;

    public List<SessionChangeSet> ChangeSets { get; } = [];

    public override Task SaveAsync(SessionDocument document, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _writes);
        return base.SaveAsync(document, cancellationToken);
    }

    public override Task SaveChangesAsync(SessionChangeSet changes, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _writes);
        lock (ChangeSets)
        {
            ChangeSets.Add(changes);
        }

        return base.SaveChangesAsync(changes, cancellationToken);
    }

    public override Task<SessionDocument?> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _loads);
        return base.LoadAsync(sessionId, cancellationToken);
    }

    // The fixture disposes the inner backend.
    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
