namespace Voxon.Storage.Postgres;

/// <summary>Found by <see cref="SessionStorageProviders"/> when options name <c>database</c> before anything loaded this package.</summary>
internal static class PostgresStorageRegistration
{
    public static void Register() => PostgresStorage.Register();
}
