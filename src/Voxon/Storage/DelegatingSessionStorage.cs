namespace Voxon.Storage;

/// <summary>
/// Base class of storage decorators (retries, telemetry, counting in tests): every member forwards to
/// <see cref="InnerStorage"/>; override the ones to change.
/// </summary>
public abstract class DelegatingSessionStorage : SessionStorage
{
    /// <summary>Wraps <paramref name="innerStorage"/>.</summary>
    protected DelegatingSessionStorage(SessionStorage innerStorage)
    {
        ArgumentNullException.ThrowIfNull(innerStorage);
        InnerStorage = innerStorage;
        InnerStorage.RecordSkipped += (_, problem) => ReportSkipped(problem);
    }

    /// <summary>The wrapped backend.</summary>
    protected SessionStorage InnerStorage { get; }

    /// <inheritdoc />
    public override string BackendName => InnerStorage.BackendName;

    /// <inheritdoc />
    public override Task SaveAsync(SessionDocument document, CancellationToken cancellationToken = default) => InnerStorage.SaveAsync(document, cancellationToken);

    /// <inheritdoc />
    public override Task CreateAsync(SessionDocument document, CancellationToken cancellationToken = default) => InnerStorage.CreateAsync(document, cancellationToken);

    /// <inheritdoc />
    public override Task SaveChangesAsync(SessionChangeSet changes, CancellationToken cancellationToken = default) => InnerStorage.SaveChangesAsync(changes, cancellationToken);

    /// <inheritdoc />
    public override Task<SessionDocument?> LoadAsync(string sessionId, CancellationToken cancellationToken = default) => InnerStorage.LoadAsync(sessionId, cancellationToken);

    /// <inheritdoc />
    public override Task<SessionDocument?> LoadMetadataAsync(string sessionId, CancellationToken cancellationToken = default) => InnerStorage.LoadMetadataAsync(sessionId, cancellationToken);

    /// <inheritdoc />
    public override Task<SessionRepair?> RepairAsync(string sessionId, CancellationToken cancellationToken = default) => InnerStorage.RepairAsync(sessionId, cancellationToken);

    /// <inheritdoc />
    public override Task<bool> DeleteAsync(string sessionId, CancellationToken cancellationToken = default) => InnerStorage.DeleteAsync(sessionId, cancellationToken);

    /// <inheritdoc />
    public override Task<bool> DeleteAsync(string sessionId, long expectedVersion, CancellationToken cancellationToken = default) => InnerStorage.DeleteAsync(sessionId, expectedVersion, cancellationToken);

    /// <inheritdoc />
    public override Task<IReadOnlyList<SessionSummary>> ListAsync(string? userId = null, CancellationToken cancellationToken = default) => InnerStorage.ListAsync(userId, cancellationToken);

    /// <inheritdoc />
    public override Task SaveShareAsync(ShareRecord share, CancellationToken cancellationToken = default) => InnerStorage.SaveShareAsync(share, cancellationToken);

    /// <inheritdoc />
    public override Task<ShareRecord?> FindShareAsync(string tokenHash, CancellationToken cancellationToken = default) => InnerStorage.FindShareAsync(tokenHash, cancellationToken);

    /// <inheritdoc />
    public override Task<IReadOnlyList<ShareRecord>> ListSharesAsync(string sessionId, CancellationToken cancellationToken = default) => InnerStorage.ListSharesAsync(sessionId, cancellationToken);

    /// <inheritdoc />
    public override Task SaveTemplateAsync(TemplateDocument template, CancellationToken cancellationToken = default) => InnerStorage.SaveTemplateAsync(template, cancellationToken);

    /// <inheritdoc />
    public override Task<TemplateDocument?> LoadTemplateAsync(string name, CancellationToken cancellationToken = default) => InnerStorage.LoadTemplateAsync(name, cancellationToken);

    /// <inheritdoc />
    public override Task<IReadOnlyList<string>> ListTemplatesAsync(CancellationToken cancellationToken = default) => InnerStorage.ListTemplatesAsync(cancellationToken);

    /// <inheritdoc />
    public override Task<StoreRewriteResult> RewriteAllAsync(CancellationToken cancellationToken = default) => InnerStorage.RewriteAllAsync(cancellationToken);

    /// <inheritdoc />
    public override bool IsEncrypted => InnerStorage.IsEncrypted;

    internal override Task<string?> DurabilityWarningAsync(CancellationToken cancellationToken) => InnerStorage.DurabilityWarningAsync(cancellationToken);

    /// <inheritdoc />
    public override Task<ErasureReceipt> EraseUserAsync(string userId, ErasureOptions? options = null, CancellationToken cancellationToken = default) => InnerStorage.EraseUserAsync(userId, options, cancellationToken);

    /// <inheritdoc />
    public override Task<int> RewrapKeysAsync(CancellationToken cancellationToken = default) => InnerStorage.RewrapKeysAsync(cancellationToken);

    /// <summary>Disposes the wrapped backend.</summary>
    public override async ValueTask DisposeAsync()
    {
        await InnerStorage.DisposeAsync();
        await base.DisposeAsync();
    }
}
