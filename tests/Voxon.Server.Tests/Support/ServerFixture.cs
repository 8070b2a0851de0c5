namespace Voxon.Server.Tests.Support;

/// <summary>One server shared by the API tests of a class (starting one loads the embedding model).</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public ServerInstance Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ServerInstance.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
