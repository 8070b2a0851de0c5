using Microsoft.Extensions.DependencyInjection;
using Voxon.Storage.Postgres;
using Voxon.Storage.Redis;

namespace Voxon.Storage.File.Tests;

/// <summary>Choosing the backend by configuration, as the spec does, and through DI.</summary>
public sealed class ConfigurationTests
{
    [Fact]
    public async Task Database_and_redis_names_find_their_packages_without_explicit_registration()
    {
        // The spec's style: only names and URLs. The packages are referenced by this test project.
        await using var database = new VoxonClient(new VoxonOptions { SessionStorage = "database", SessionDatabaseUrl = "postgresql://u:p@127.0.0.1:1/db", UseEnvironment = false });
        Assert.Equal("postgresql", database.Storage.BackendName);
        await using var redis = new VoxonClient(new VoxonOptions { SessionStorage = "redis", SessionRedisUrl = "redis://127.0.0.1:1", UseEnvironment = false });
        Assert.Equal("redis", redis.Storage.BackendName);
    }

    [Fact]
    public void Use_extensions_set_the_spec_options()
    {
        var options = new VoxonOptions().UsePostgres("postgresql://u:p@localhost:5432/db?sslmode=disable&schema=voxon");
        Assert.Equal("database", options.SessionStorage);
        Assert.Equal("redis", new VoxonOptions().UseRedis("redis://:secret@localhost:6380/2").SessionStorage);
        var (connection, schema) = PostgresStorage.ParseUrl(options.SessionDatabaseUrl!);
        Assert.Equal("voxon", schema);
        Assert.Contains("Host=localhost", connection, StringComparison.Ordinal);
        Assert.Contains("Database=db", connection, StringComparison.Ordinal);
        var redis = RedisStorage.Parse("redis://:secret@localhost:6380/2");
        Assert.Equal("secret", redis.Password);
        Assert.Equal(2, redis.DefaultDatabase);
    }

    [Fact]
    public void Missing_urls_and_bad_method_are_listed_in_one_error()
    {
        var error = Assert.Throws<VoxonConfigurationException>(() =>
            new VoxonOptions { SessionStorage = "database", SessionEncryptionMethod = "DES", StorageRetryAttempts = 0 }.Validate());
        Assert.Contains(error.Errors, e => e.Contains("session_database_url", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("AES256", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("storage_retry_attempts", StringComparison.Ordinal));
        var unknown = Assert.Throws<VoxonConfigurationException>(() => new VoxonOptions { SessionStorage = "cassandra" }.Validate());
        Assert.Contains("cassandra", unknown.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("database", "postgresql://alice:s3cret@db.example:port/voxon", "database URL is malformed")]
    [InlineData("database", "postgresql://alice:s3cret@db.example/voxon?color=blue", "setting 'color' is not a PostgreSQL connection setting")]
    [InlineData("database", "Host=db.example;Password=s3cret;;=", "neither a postgresql:// URL nor a connection string")]
    [InlineData("redis", "redis://:s3cret@cache.example:port", "Redis URL is malformed")]
    [InlineData("redis", "redis://:s3cret@cache.example:6379/sessions", "database must be a number")]
    public void Malformed_storage_urls_are_argument_errors_that_do_not_repeat_the_password(string backend, string url, string expected)
    {
        var options = new VoxonOptions { SessionStorage = backend, SessionDatabaseUrl = url, SessionRedisUrl = url, UseEnvironment = false };

        var error = Assert.ThrowsAny<ArgumentException>(() => new VoxonClient(options));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_storage_folder_that_is_a_file_is_refused()
    {
        var file = Path.GetTempFileName();
        try
        {
            var error = Assert.Throws<ArgumentException>(() => new VoxonClient(new VoxonOptions { SessionStoragePath = file, UseEnvironment = false }));

            Assert.Contains("is a file; file storage needs a folder", error.Message, StringComparison.Ordinal);
            Assert.True(new FileInfo(file).Exists);
        }
        finally
        {
            System.IO.File.Delete(file);
        }
    }

    [Fact]
    public async Task AddVoxon_registers_the_client_and_its_storage()
    {
        var folder = Directory.CreateTempSubdirectory("voxon-di-").FullName;
        try
        {
            var services = new ServiceCollection().AddVoxon(o =>
            {
                o.SessionStoragePath = folder;
                o.UseEnvironment = false;
                o.EmbeddingGenerator = new Worker.FakeEmbeddingGenerator();
            });
            await using var provider = services.BuildServiceProvider();
            var client = provider.GetRequiredService<VoxonClient>();
            Assert.Same(client.Storage, provider.GetRequiredService<SessionStorage>());
            Assert.Equal("file", client.Storage.BackendName);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
