namespace Voxon.Storage;

/// <summary>
/// Retries operations that fail with a transient <see cref="VoxonStorageException"/> (a dropped connection, a
/// timeout, a busy lock) a bounded number of times with exponential backoff and jitter, waiting on a
/// <see cref="TimeProvider"/>. Concurrency conflicts and permanent errors are never retried.
/// </summary>
/// <remarks>A save whose acknowledgement was lost may have been stored; its retry then fails with
/// <see cref="SessionConcurrencyException"/>, which tells the caller to reload.</remarks>
internal sealed class RetryingSessionStorage(SessionStorage inner, int attempts, TimeSpan delay, TimeProvider time) : DelegatingSessionStorage(inner)
{
    public override Task SaveAsync(SessionDocument document, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.SaveAsync(document, cancellationToken), cancellationToken);

    public override Task CreateAsync(SessionDocument document, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.CreateAsync(document, cancellationToken), cancellationToken);

    public override Task SaveChangesAsync(SessionChangeSet changes, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.SaveChangesAsync(changes, cancellationToken), cancellationToken);

    public override Task<SessionDocument?> LoadAsync(string sessionId, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.LoadAsync(sessionId, cancellationToken), cancellationToken);

    public override Task<SessionDocument?> LoadMetadataAsync(string sessionId, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.LoadMetadataAsync(sessionId, cancellationToken), cancellationToken);

    public override Task<bool> DeleteAsync(string sessionId, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.DeleteAsync(sessionId, cancellationToken), cancellationToken);

    public override Task<bool> DeleteAsync(string sessionId, long expectedVersion, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.DeleteAsync(sessionId, expectedVersion, cancellationToken), cancellationToken);

    public override Task<IReadOnlyList<SessionSummary>> ListAsync(string? userId = null, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.ListAsync(userId, cancellationToken), cancellationToken);

    public override Task SaveShareAsync(ShareRecord share, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.SaveShareAsync(share, cancellationToken), cancellationToken);

    public override Task<ShareRecord?> FindShareAsync(string tokenHash, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.FindShareAsync(tokenHash, cancellationToken), cancellationToken);

    public override Task<IReadOnlyList<ShareRecord>> ListSharesAsync(string sessionId, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.ListSharesAsync(sessionId, cancellationToken), cancellationToken);

    public override Task SaveTemplateAsync(TemplateDocument template, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.SaveTemplateAsync(template, cancellationToken), cancellationToken);

    public override Task<TemplateDocument?> LoadTemplateAsync(string name, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.LoadTemplateAsync(name, cancellationToken), cancellationToken);

    public override Task<IReadOnlyList<string>> ListTemplatesAsync(CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.ListTemplatesAsync(cancellationToken), cancellationToken);

    // Erasure resumes where it stopped, so a retry is safe.
    public override Task<ErasureReceipt> EraseUserAsync(string userId, ErasureOptions? options = null, CancellationToken cancellationToken = default) =>
        RunAsync(() => InnerStorage.EraseUserAsync(userId, options, cancellationToken), cancellationToken);

    private Task RunAsync(Func<Task> operation, CancellationToken cancellationToken) =>
        RunAsync(async () =>
        {
            await operation();
            return true;
        }, cancellationToken);

    private async Task<T> RunAsync<T>(Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await operation();
            }
            catch (VoxonStorageException ex) when (ex.IsTransient && ex is not SessionConcurrencyException && attempt < attempts)
            {
                // Full jitter: spreads the retries of many processes hitting the same outage.
                var backoff = delay * Math.Pow(2, attempt - 1) * (0.5 + (Random.Shared.NextDouble() / 2));
                await Task.Delay(backoff, time, cancellationToken);
            }
        }
    }
}
