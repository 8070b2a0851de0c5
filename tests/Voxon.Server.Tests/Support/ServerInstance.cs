using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Voxon.Server.Hosting;
using Voxon.Server.Tenancy;
using Voxon.Tests.TestSupport;

namespace Voxon.Server.Tests.Support;

/// <summary>A real Voxon server on Kestrel at 127.0.0.1 (a free port) over file storage in a temp folder, with keys for
/// two tenants and an admin made the way <c>voxon keys create</c> makes them. Another instance over the same folder
/// stands for a restart or a second process.</summary>
public sealed class ServerInstance : IAsyncDisposable
{
    private readonly TempFolder? _folder;
    private readonly WebApplication _app;
    private readonly List<HttpClient> _clients = [];

    private ServerInstance(WebApplication app, string store, TempFolder? folder)
    {
        _app = app;
        Store = store;
        _folder = folder;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        BaseAddress = new Uri(addresses.Addresses.First());
        Keys = new ApiKeyStore(ApiKeyStore.DefaultPathFor(store));
    }

    public Uri BaseAddress { get; }

    public string Store { get; }

    public ApiKeyStore Keys { get; }

    public string AdminKey { get; private set; } = "";

    public string KeyA { get; private set; } = "";

    public string KeyB { get; private set; } = "";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The CLI from its own build output, to run as its own process: copied beside the tests, its dependency
    /// manifest points at assemblies that the test output resolves from the ASP.NET Core framework instead.</summary>
    public static string CliPath()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var (framework, configuration) = (testBin.Name, testBin.Parent!.Name);
        var root = testBin.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(root, "src", "Voxon.Cli", "bin", configuration, framework, "Voxon.Cli.dll");
    }

    /// <summary>Starts a server; over <paramref name="store"/> when given (a restart), else a fresh folder.</summary>
    public static async Task<ServerInstance> StartAsync(Action<VoxonServerOptions>? configure = null, string? store = null)
    {
        var folder = store is null ? new TempFolder() : null;
        store ??= folder!.Combine("sessions");
        var options = new VoxonServerOptions
        {
            Store = store,
            ConfigureVoxon = o => o.UseEnvironment = false,
        };
        configure?.Invoke(options);
        var app = VoxonServer.Build(options, ["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync();
        var server = new ServerInstance(app, store, folder);
        var existing = server.Keys.List();
        if (existing.Count == 0)
        {
            server.AdminKey = server.Keys.Create("ops", admin: true).Secret;
            server.KeyA = server.Keys.Create("tenant-a").Secret;
            server.KeyB = server.Keys.Create("tenant-b").Secret;
        }

        return server;
    }

    /// <summary>Starts a second server over this one's store, with these keys (a restart, or another process).</summary>
    public async Task<ServerInstance> StartAnotherAsync(Action<VoxonServerOptions>? configure = null)
    {
        var other = await StartAsync(configure, Store);
        other.AdminKey = AdminKey;
        other.KeyA = KeyA;
        other.KeyB = KeyB;
        return other;
    }

    public T Service<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    public HttpClient Client(string? key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        _clients.Add(client);
        return client;
    }

    /// <summary>Creates a session for tenant A's (or the given key's) user and returns its id.</summary>
    public async Task<string> CreateSessionAsync(string? key = null, string user = "alice", object? body = null)
    {
        var response = await Client(key ?? KeyA).PostAsJsonAsync("/v1/sessions", body ?? new { user_id = user });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("session_id").GetString()!;
    }

    public async Task<string> StartConversationAsync(string sessionId, string? key = null, object? body = null)
    {
        var response = await Client(key ?? KeyA).PostAsJsonAsync($"/v1/sessions/{sessionId}/conversations", body ?? new { });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("conversation_id").GetString()!;
    }

    public async Task<string> SendAsync(string sessionId, string conversationId, string text, string? key = null)
    {
        var response = await Client(key ?? KeyA).PostAsJsonAsync($"/v1/sessions/{sessionId}/conversations/{conversationId}/messages", new { text });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reply").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
        _folder?.Dispose();
    }
}
