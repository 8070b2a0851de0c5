namespace Voxon.Storage.Conformance;

/// <summary>
/// A backend under test: an isolated space on it (folder, schema, key prefix) shared by the tests of one class.
/// Server backends read their address from an environment variable; without it they skip locally and fail in CI.
/// </summary>
public abstract class StorageFixture : IAsyncLifetime
{
    private readonly List<SessionStorage> _created = [];

    /// <summary>The backend name the worker process understands (file, postgresql, redis).</summary>
    public abstract string Backend { get; }

    /// <summary>Where the backend lives (folder, URL); null when not configured.</summary>
    public abstract string? Target { get; }

    /// <summary>The isolated space (schema, key prefix; unused for files).</summary>
    public string Space { get; } = "t" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>The environment variable that configures the server, or null for none needed.</summary>
    protected virtual string? Variable => null;

    /// <summary>Why the suite cannot run here, or null.</summary>
    public string? SkipReason => Target is not null ? null
        : string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            ? throw new InvalidOperationException($"{Variable} is not set: in CI the {Backend} server must run (scripts/servers.sh start)")
            : $"{Variable} is not set; run scripts/servers.sh start (or scripts/test.sh) to test the {Backend} backend";

    /// <summary>A backend over the fixture's space; disposed with the fixture.</summary>
    public SessionStorage Create(SessionEncryption? encryption = null)
    {
        var storage = Worker.WorkerStorage.Open(Backend, Target!, Space, encryption);
        lock (_created)
        {
            _created.Add(storage);
        }

        return storage;
    }

    /// <summary>What warming up a client over <paramref name="storage"/> logs (the storage's durability warning among it).</summary>
    public static async Task<IReadOnlyList<string>> WarmUpLogsAsync(SessionStorage storage)
    {
        var logs = new Voxon.Tests.TestSupport.LogCollector();
        await using var client = new VoxonClient(new VoxonOptions { Storage = storage, UseEnvironment = false, LoggerFactory = logs.Factory });
        await client.WarmUpAsync();
        return logs.Messages;
    }

    /// <summary>A backend that cannot work (server down, folder unusable), to test error reporting.</summary>
    public abstract SessionStorage CreateBroken();

    /// <summary>Whether the failure of <see cref="CreateBroken"/> may go away by itself (a server down: yes).</summary>
    public virtual bool BrokenIsTransient => true;

    /// <summary>Everything stored in the fixture's space, as raw bytes (to look for plaintext).</summary>
    public abstract Task<byte[]> ReadRawAsync();

    /// <summary>A backup of the stored records of <paramref name="sessionId"/> (rows, files or keys), as an operator would take it.</summary>
    public abstract Task<StoredCopy> CopySessionAsync(string sessionId);

    /// <summary>Changes one byte of a stored record of <paramref name="sessionId"/> that holds content.</summary>
    public abstract Task TamperAsync(string sessionId);

    /// <summary>Damages what a listing reads of <paramref name="sessionId"/>; false when the backend stores nothing a
    /// listing could fail on (typed columns).</summary>
    public abstract Task<bool> BreakSummaryAsync(string sessionId);

    /// <summary>Breaks the stored share record with token hash <paramref name="tokenHash"/> (its first byte becomes 0).</summary>
    public abstract Task TamperShareAsync(string tokenHash);

    /// <summary>Deletes the newest stored record of <paramref name="kind"/> (<c>turn</c> or <c>memory</c>) of a session,
    /// or on a backend that stores saves as a log, the last save's entry.</summary>
    public abstract Task DeleteLastRecordAsync(string sessionId, string kind);

    /// <summary>Damages what is stored of a session at random (a flipped byte, a truncation, a deleted record);
    /// returns what was done.</summary>
    public abstract Task<string> DamageAsync(string sessionId, Random random);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var storage in _created)
        {
            await storage.DisposeAsync();
        }
    }
}

/// <summary>A backup of one session's stored records: their bytes, and a way to put them back into the store.</summary>
public sealed class StoredCopy(byte[] bytes, Func<Task> restore)
{
    /// <summary>The records' stored bytes, concatenated in a stable order.</summary>
    public byte[] Bytes { get; } = bytes;

    /// <summary>Writes the records back as they were copied.</summary>
    public Task RestoreAsync() => restore();
}
