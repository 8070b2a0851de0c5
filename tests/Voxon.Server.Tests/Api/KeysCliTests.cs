using System.Net;
using Voxon.Cli;
using Voxon.Server.Tenancy;
using Voxon.Server.Tests.Support;
using Voxon.Tests.TestSupport;

namespace Voxon.Server.Tests.Api;

/// <summary><c>voxon keys create</c> works before the server starts, prints the key alone on its last line, and stores only its hash.</summary>
public sealed class KeysCliTests
{
    [Fact]
    public async Task Keys_create_prints_the_key_last_and_a_server_started_later_accepts_it()
    {
        using var folder = new Voxon.Tests.TestSupport.TempFolder();
        var store = folder.Combine("sessions");
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, await VoxonCommand.RunAsync(["keys", "create", "--tenant", "acme", "--store", store], TextReader.Null, output, error));
        var key = output.ToString().TrimEnd().Split('\n')[^1].Trim();
        Assert.StartsWith(ApiKeyStore.KeyPrefix, key);
        Assert.DoesNotContain(key, await File.ReadAllTextAsync(ApiKeyStore.DefaultPathFor(store)));

        await using var server = await ServerInstance.StartAsync(store: store);
        Assert.Equal(HttpStatusCode.OK, (await server.Client(key).GetAsync("/v1/sessions")).StatusCode);

        var list = new StringWriter();
        Assert.Equal(0, await VoxonCommand.RunAsync(["keys", "list", "--store", store], TextReader.Null, list, error));
        var keyId = list.ToString().Split("  ")[0].Trim();
        Assert.Equal(0, await VoxonCommand.RunAsync(["keys", "revoke", keyId, "--store", store], TextReader.Null, new StringWriter(), error));
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client(key).GetAsync("/v1/sessions")).StatusCode);
        Assert.Equal(1, await VoxonCommand.RunAsync(["keys", "create", "--tenant", "bad tenant", "--store", store], TextReader.Null, new StringWriter(), error));
        Assert.Contains("Invalid tenant", error.ToString());
    }

    [Fact]
    public async Task A_key_file_held_by_another_writer_is_reported_as_such_and_left_unchanged()
    {
        using var folder = new Voxon.Tests.TestSupport.TempFolder();
        var store = folder.Combine("sessions");
        var error = new StringWriter();
        Assert.Equal(0, await VoxonCommand.RunAsync(["keys", "create", "--tenant", "acme", "--store", store], TextReader.Null, new StringWriter(), error));
        var path = ApiKeyStore.DefaultPathFor(store);
        var before = await File.ReadAllBytesAsync(path);

        // Another writer (a server creating a key, say) holds the lock past the wait.
        using (new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            Assert.Equal(1, await VoxonCommand.RunAsync(["keys", "create", "--tenant", "acme", "--store", store], TextReader.Null, new StringWriter(), error));
        }

        Assert.Contains($"The API key file '{path}' is being changed by another process", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("nothing was changed", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(path));
        Assert.Equal(0, await VoxonCommand.RunAsync(["keys", "create", "--tenant", "acme", "--store", store], TextReader.Null, new StringWriter(), error));
        Assert.Equal(2, new ApiKeyStore(path).List().Count);
    }

    [Fact]
    public async Task A_created_or_revoked_key_is_flushed_to_disk_before_the_command_reports_it()
    {
        // The key file is replaced by a rename: unflushed, a power loss could bring back a revoked key, or lose a new one.
        using var folder = new Voxon.Tests.TestSupport.TempFolder();
        var store = folder.Combine("sessions");
        var created = await DurabilityTrace.RunAsync(folder.Path, [ServerInstance.CliPath(), "keys", "create", "--tenant", "acme", "--store", store], ApiKeyStore.KeyPrefix);
        Assert.Equal(1, created.Acknowledgements);
        Assert.Empty(created.Unflushed);
        var keys = Path.GetDirectoryName(ApiKeyStore.DefaultPathFor(store))!;
        Assert.Equal([folder.Path, store, keys], created.Flushed.Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal)).Distinct());
        Assert.Contains(ApiKeyStore.DefaultPathFor(store) + ".tmp", created.Flushed); // the new file's bytes, before the rename

        var keyId = new ApiKeyStore(ApiKeyStore.DefaultPathFor(store)).List().Single().KeyId;
        var revoked = await DurabilityTrace.RunAsync(folder.Path, [ServerInstance.CliPath(), "keys", "revoke", keyId, "--store", store], "Revoked key");
        Assert.Equal(1, revoked.Acknowledgements);
        Assert.Empty(revoked.Unflushed);
        Assert.Contains(keys, revoked.Flushed);
    }
}
