using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Voxon.Server.Tests.Support;

namespace Voxon.Server.Tests.Browser;

/// <summary>The dashboard in real Chromium (Debian's, installed by scripts/servers.sh): sign in with a key, find a
/// session, open a turn's injected memories, search and forget memory, revoke a share. Each main page is saved as a
/// screenshot under TestResults/dashboard.</summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private ServerInstance _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public static string ScreenshotFolder
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Voxon.Server.Tests.csproj")))
            {
                dir = dir.Parent;
            }

            return Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "TestResults", "dashboard");
        }
    }

    public async Task InitializeAsync()
    {
        _server = await ServerInstance.StartAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath(),
            Headless = true,
            Args = ["--no-sandbox"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
    }

    private static string ChromiumPath()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            var path = Path.Combine(dir, "chromium");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException("chromium is not installed; scripts/servers.sh start installs it (apt-get install chromium).");
    }

    [Fact]
    public async Task Find_a_session_see_injected_memories_search_forget_and_revoke()
    {
        // Data made through the API, as a client would.
        var api = _server.Client(_server.KeyA);
        var id = await _server.CreateSessionAsync(user: "zoe", body: new { user_id = "zoe", config = new { memory_mode = "persistent" } });
        await _server.CreateSessionAsync(user: "yusuf");
        var main = await _server.StartConversationAsync(id, body: new { conversation_id = "main" });
        await _server.SendAsync(id, main, "My name is Zoe");
        await _server.SendAsync(id, main, "I'm interested in jazz piano");
        await _server.SendAsync(id, main, "I usually practice in the evening after work");
        await _server.SendAsync(id, main, "What's my name and interest?");
        var branch = await _server.StartConversationAsync(id, body: new { conversation_id = "theory", parent_id = main });
        await _server.SendAsync(id, branch, "Can you explain the circle of fifths?");
        await api.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "Prefers lessons on Saturday mornings", category = "scheduling", importance = 0.8 });
        await api.PostAsJsonAsync($"/v1/sessions/{id}/memory", new { content = "Owns a Yamaha upright piano", category = "equipment", importance = 0.6 });
        await api.PostAsJsonAsync($"/v1/sessions/{id}/metrics", new { name = "user_satisfaction", value = 4.0 });
        var share = await (await api.PostAsJsonAsync($"/v1/sessions/{id}/shares", new { shared_with = "teacher_ann", permissions = new[] { "read" } })).Content.ReadFromJsonAsync<JsonElement>();
        var shareId = share.GetProperty("share_id").GetString()!;

        Directory.CreateDirectory(ScreenshotFolder);
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 860 } });
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);

        // Sign in: the key is asked for and kept in sessionStorage only.
        await page.GotoAsync(_server.BaseAddress.ToString());
        await page.GetByPlaceholder("vxk_…").FillAsync(_server.KeyA);
        await page.GetByRole(AriaRole.Button, new() { Name = "Open dashboard" }).ClickAsync();
        await page.GetByTestId("session-row").First.WaitForAsync();
        Assert.Equal(_server.KeyA, await page.EvaluateAsync<string>("sessionStorage.getItem('voxon.key')"));
        Assert.Null(await page.EvaluateAsync<string?>("localStorage.getItem('voxon.key')"));
        await Shot(page, "sessions");

        // Find the session by user.
        await page.GetByTestId("session-search").FillAsync("zoe");
        await Assertions.Expect(page.GetByTestId("session-row")).ToHaveCountAsync(1);
        await page.GetByTestId("session-row").ClickAsync();

        // The conversation tree and the transcript; open the last turn's injected memories.
        await Assertions.Expect(page.GetByTestId("conversation-item")).ToHaveCountAsync(2);
        await page.GetByTestId("conversation-item").Filter(new() { HasText = "main" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("turn-user")).ToHaveCountAsync(4);
        await page.GetByTestId("show-injections").Last.ClickAsync();
        var injections = page.GetByTestId("injections").Last;
        await Assertions.Expect(injections).ToBeVisibleAsync();
        await Assertions.Expect(injections).ToContainTextAsync("Zoe");
        await Assertions.Expect(injections).ToContainTextAsync("tokens");
        await Assertions.Expect(injections.GetByTestId("injection").First).ToContainTextAsync("profile fact");
        await Shot(page, "conversation");

        // Memory: search, then forget one.
        await page.Locator("a[data-nav=memory]").ClickAsync();
        await page.GetByTestId("memory").First.WaitForAsync();
        await page.GetByTestId("memory-search").FillAsync("Yamaha upright");
        await Assertions.Expect(page.GetByTestId("memory").First).ToContainTextAsync("Yamaha");
        await Assertions.Expect(page.GetByTestId("memory").First).ToContainTextAsync("match");
        await Shot(page, "memory");
        await page.GetByTestId("memory").First.GetByTestId("forget").ClickAsync();
        await Assertions.Expect(page.GetByTestId("memory").Filter(new() { HasText = "Yamaha" })).ToHaveCountAsync(0);
        Assert.DoesNotContain("Yamaha", await api.GetStringAsync($"/v1/sessions/{id}/memory"));

        // Analytics charts drawn by the page.
        await page.Locator("a[data-nav=analytics]").ClickAsync();
        await Assertions.Expect(page.GetByTestId("chart-hours").Locator("rect")).ToHaveCountAsync(24);
        await Assertions.Expect(page.GetByTestId("chart-topics").Locator("rect").First).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("chart-satisfaction").Locator("circle")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("preferences")).ToContainTextAsync("Formality");
        await Shot(page, "analytics");

        // Shares: revoke.
        await page.Locator("a[data-nav=shares]").ClickAsync();
        var row = page.Locator($"[data-share='{shareId}']");
        await Assertions.Expect(row.GetByTestId("share-status")).ToHaveTextAsync("active");
        await row.GetByTestId("revoke").ClickAsync();
        await Assertions.Expect(page.Locator($"[data-share='{shareId}']").GetByTestId("share-status")).ToHaveTextAsync("revoked");
        var shares = await api.GetFromJsonAsync<JsonElement>($"/v1/sessions/{id}/shares");
        Assert.True(shares[0].TryGetProperty("revoked_at", out _));
        await Shot(page, "shares");

        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_wrong_key_is_refused_and_nothing_is_shown()
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(_server.BaseAddress.ToString());
        await page.GetByPlaceholder("vxk_…").FillAsync("vxk_wrong");
        await page.GetByRole(AriaRole.Button, new() { Name = "Open dashboard" }).ClickAsync();
        await Assertions.Expect(page.Locator("#login-error")).ToContainTextAsync("refused");
        await Assertions.Expect(page.Locator("#app")).ToBeHiddenAsync();
        Assert.Null(await page.EvaluateAsync<string?>("sessionStorage.getItem('voxon.key')"));
    }

    private static Task Shot(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });
}
