namespace Voxon.Storage.Redis;

/// <summary>Found by <see cref="SessionStorageProviders"/> when options name <c>redis</c> before anything loaded this package.</summary>
internal static class RedisStorageRegistration
{
    public static void Register() => RedisStorage.Register();
}
