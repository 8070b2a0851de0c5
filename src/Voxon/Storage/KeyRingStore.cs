namespace Voxon.Storage;

/// <summary>
/// Where a backend keeps its key ring and other small control records (the store's KDF salt, each user's wrapped
/// data key, the progress of an erasure), apart from session data: its own folder, table or Redis key, so that backups
/// of data and keys can be handled separately. Entries are named by ASCII names of letters, digits, '.', '_', '-'.
/// </summary>
/// <remarks>Implementations are thread-safe and multi-process safe: <see cref="GetOrAddAsync"/> is atomic.</remarks>
internal abstract class KeyRingStore
{
    /// <summary>The entry named <paramref name="name"/>, or null.</summary>
    public abstract Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="value"/> unless the entry exists; returns what is stored afterwards.</summary>
    public abstract Task<byte[]> GetOrAddAsync(string name, byte[] value, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="value"/>, replacing the entry atomically.</summary>
    public abstract Task SetAsync(string name, byte[] value, CancellationToken cancellationToken = default);

    /// <summary>Removes the entry for good; false when there was none.</summary>
    public abstract Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Names of the entries starting with <paramref name="prefix"/>.</summary>
    public abstract Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken = default);
}
