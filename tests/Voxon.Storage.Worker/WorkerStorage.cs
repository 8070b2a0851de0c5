using Voxon.Storage.Postgres;
using Voxon.Storage.Redis;

namespace Voxon.Storage.Worker;

/// <summary>Opens a backend from the arguments a test passes to the worker: <c>file FOLDER _</c>, <c>postgresql URL SCHEMA</c>, <c>redis URL PREFIX</c>.</summary>
public static class WorkerStorage
{
    public static SessionStorage Open(string backend, string target, string space, SessionEncryption? encryption = null) => backend switch
    {
        "file" => new FileSessionStorage(target, encryption),
        "postgresql" => PostgresStorage.Create(new PostgresStorageOptions { ConnectionString = target, Schema = space, Encryption = encryption }),
        "redis" => RedisStorage.Create(new RedisStorageOptions { Configuration = target, KeyPrefix = space, Encryption = encryption }),
        _ => throw new ArgumentException($"unknown backend '{backend}'", nameof(backend)),
    };

    /// <summary>A client over <paramref name="storage"/> with the offline engine and fake embeddings.</summary>
    public static VoxonClient Client(SessionStorage storage, TimeProvider? time = null) =>
        new(new VoxonOptions { Storage = storage, EmbeddingGenerator = new FakeEmbeddingGenerator(), UseEnvironment = false, TimeProvider = time ?? TimeProvider.System });
}
