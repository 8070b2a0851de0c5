using Microsoft.Extensions.Time.Testing;
using Voxon.Retention;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Retention;

/// <summary>Retention by age and per-user limits, on a fake clock.</summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task Prune_deletes_only_sessions_older_than_the_age_and_dry_run_deletes_nothing()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var voxon = new TestVoxon(time: time);
        var old = new List<string>();
        foreach (var user in new[] { "user_a", "user_b", "user_a" })
        {
            var session = await voxon.Client.CreateSessionAsync(user);
            await session.SaveAsync();
            old.Add(session.SessionId);
        }

        time.Advance(TimeSpan.FromDays(100));
        var recent = await voxon.Client.CreateSessionAsync("user_a");
        await recent.SaveAsync();
        time.Advance(TimeSpan.FromDays(1));

        var dry = await voxon.Client.PruneSessionsAsync(TimeSpan.FromDays(90), dryRun: true);
        Assert.True(dry.DryRun);
        Assert.Equal(old.Order(), dry.SessionIds.Order());
        Assert.Equal(4, (await voxon.Client.ListSessionsAsync()).Count);

        var onlyB = await voxon.Client.PruneSessionsAsync(TimeSpan.FromDays(90), "user_b");
        Assert.Equal([old[1]], onlyB.SessionIds);

        var rest = await voxon.Client.PruneSessionsAsync(TimeSpan.FromDays(90));
        Assert.Equal(new[] { old[0], old[2] }.Order(), rest.SessionIds.Order());
        Assert.Equal([recent.SessionId], (await voxon.Client.ListSessionsAsync()).Select(s => s.SessionId));

        // Nothing left to prune: running again (as after a crash) is a no-op.
        Assert.Empty((await voxon.Client.PruneSessionsAsync(TimeSpan.FromDays(90))).SessionIds);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => voxon.Client.PruneSessionsAsync(TimeSpan.Zero));
    }

    [Fact]
    public async Task Creating_a_session_past_the_per_user_limit_fails_clearly()
    {
        await using var voxon = new TestVoxon(configure: o => o.MaxSessionsPerUser = 2);
        for (var i = 0; i < 2; i++)
        {
            await (await voxon.Client.CreateSessionAsync("user_limited")).SaveAsync();
        }

        var error = await Assert.ThrowsAsync<SessionLimitException>(() => voxon.Client.CreateSessionAsync("user_limited"));
        Assert.Contains("max_sessions_per_user", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, error.Limit);
        await (await voxon.Client.CreateSessionAsync("user_other")).SaveAsync();
        Assert.Contains("max_sessions_per_user", Assert.Throws<VoxonConfigurationException>(() => new VoxonOptions { MaxSessionsPerUser = 0 }.Validate()).Message, StringComparison.Ordinal);
    }
}
