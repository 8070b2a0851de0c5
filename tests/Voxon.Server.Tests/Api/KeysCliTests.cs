using System.Net;
using Voxon.Cli;
using Voxon.Server.Tenancy;
using Voxon.Server.Tests.Support;

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
}
