using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Voxon.Server.Hosting;
using Voxon.Server.Tenancy;

namespace Voxon.Benchmarks;

/// <summary>
/// Harness "server": a bounded load of N concurrent users (VOXON_LOAD_USERS, default 50), each creating a session and
/// sending T turns (VOXON_LOAD_TURNS, default 20) over HTTP to a real server on 127.0.0.1 with the offline engine, on
/// file storage and on PostgreSQL (VOXON_TEST_POSTGRES). Prints throughput, turn latency percentiles and errors; then
/// restarts the server over the same storage and checks that every acknowledged turn is still there.
/// </summary>
public static class ServerLoadHarness
{
    public static void RegisterHarnesses() => Harness.Register("server", RunAsync);

    private static async Task RunAsync()
    {
        var users = Number("VOXON_LOAD_USERS", 50);
        var turns = Number("VOXON_LOAD_TURNS", 20);
        var root = Path.Combine(Path.GetTempPath(), "voxon-load-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await RunOnAsync("file", Path.Combine(root, "sessions"), Path.Combine(root, "keys.json"), users, turns);
            if (Environment.GetEnvironmentVariable("VOXON_TEST_POSTGRES") is { Length: > 0 } url)
            {
                await RunOnAsync("postgresql", url, Path.Combine(root, "pg-keys.json"), users, turns);
            }
            else
            {
                Console.WriteLine("postgresql: skipped (VOXON_TEST_POSTGRES not set; eval \"$(scripts/servers.sh start)\")");
            }
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static async Task RunOnAsync(string backend, string store, string keysPath, int users, int turns)
    {
        var options = new VoxonServerOptions
        {
            Store = store,
            KeysPath = keysPath,
            RateLimitPermits = 1_000_000,
            ConfigureVoxon = o => o.UseEnvironment = false,
        };
        var key = new ApiKeyStore(keysPath).Create("load").Secret;
        var run = Guid.NewGuid().ToString("N")[..6];
        var latencies = new ConcurrentBag<double>();
        var acknowledged = new ConcurrentDictionary<string, (string Conversation, int Turns)>();
        var errors = 0;

        await using (var server = await StartAsync(options))
        {
            using var http = Client(server.Address, key);
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, users).Select(async u =>
            {
                try
                {
                    var session = await PostAsync(http, "/v1/sessions", new { user_id = $"user{u}_{run}" }, "session_id");
                    var conversation = await PostAsync(http, $"/v1/sessions/{session}/conversations", new { }, "conversation_id");
                    for (var t = 0; t < turns; t++)
                    {
                        var started = Stopwatch.GetTimestamp();
                        var response = await http.PostAsJsonAsync($"/v1/sessions/{session}/conversations/{conversation}/messages", new { text = Message(u, t) });
                        if (response.IsSuccessStatusCode)
                        {
                            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                            acknowledged[session] = (conversation, t + 1);
                        }
                        else
                        {
                            Interlocked.Increment(ref errors);
                        }
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
            }));
            clock.Stop();
            var total = latencies.Count;
            Harness.Print($"{backend}: turn latency over HTTP ({users} users x {turns} turns)", [.. latencies]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{backend}: {total} turns in {clock.Elapsed.TotalSeconds:F1} s = {total / clock.Elapsed.TotalSeconds:F1} turns/s, errors {errors}"));
        }

        // A new server over the same storage: every acknowledged turn must be there.
        await using (var restarted = await StartAsync(options))
        {
            using var http = Client(restarted.Address, key);
            var missing = 0;
            foreach (var (session, (conversation, count)) in acknowledged)
            {
                var detail = await http.GetFromJsonAsync<JsonElement>($"/v1/sessions/{session}/conversations/{conversation}");
                if (detail.GetProperty("turns").GetArrayLength() < count * 2)
                {
                    missing++;
                }
            }

            Console.WriteLine($"{backend}: after restart {acknowledged.Count - missing} of {acknowledged.Count} sessions have every acknowledged turn; missing in {missing}");
        }
    }

    private static string Message(int user, int turn) => (turn % 4) switch
    {
        0 => $"My name is User{user}",
        1 => "I'm interested in astronomy and telescopes",
        2 => "What's my name and interest?",
        _ => $"Tell me something about turn {turn}",
    };

    private static async Task<string> PostAsync(HttpClient http, string path, object body, string property)
    {
        var response = await http.PostAsJsonAsync(path, body);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty(property).GetString()!;
    }

    private static HttpClient Client(Uri address, string key)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task<RunningServer> StartAsync(VoxonServerOptions options)
    {
        var app = VoxonServer.Build(options, ["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RunningServer(app, new Uri(address));
    }

    private static int Number(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), CultureInfo.InvariantCulture, out var n) && n > 0 ? Math.Min(n, 500) : fallback;

    private sealed record RunningServer(WebApplication App, Uri Address) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }
}
