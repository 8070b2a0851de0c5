using Microsoft.Extensions.Time.Testing;
using Voxon.Storage;

namespace Voxon.Tests.Storage;

public sealed class RetryingSessionStorageTests
{
    [Fact]
    public async Task Transient_failures_are_retried_with_backoff_then_succeed()
    {
        var time = new FakeTimeProvider();
        var flaky = new FlakyStorage(failures: 2, transient: true);
        var storage = new RetryingSessionStorage(flaky, attempts: 3, TimeSpan.FromSeconds(1), time);

        var load = storage.LoadAsync("sess_1");
        while (!load.IsCompleted)
        {
            await Task.Yield();
            time.Advance(TimeSpan.FromSeconds(1));
        }

        await load;
        Assert.Equal(3, flaky.Calls);
    }

    [Fact]
    public async Task Permanent_failures_and_exhausted_retries_surface_the_storage_error()
    {
        var permanent = new FlakyStorage(failures: 5, transient: false);
        var error = await Assert.ThrowsAsync<VoxonStorageException>(() => new RetryingSessionStorage(permanent, 3, TimeSpan.Zero, TimeProvider.System).LoadAsync("sess_1"));
        Assert.Equal(1, permanent.Calls);
        Assert.False(error.IsTransient);

        var down = new FlakyStorage(failures: 5, transient: true);
        await Assert.ThrowsAsync<VoxonStorageException>(() => new RetryingSessionStorage(down, 3, TimeSpan.Zero, TimeProvider.System).LoadAsync("sess_1"));
        Assert.Equal(3, down.Calls);
    }

    private sealed class FlakyStorage(int failures, bool transient) : DelegatingSessionStorage(new FileSessionStorage(Path.GetTempPath()))
    {
        public int Calls { get; private set; }

        public override Task<SessionDocument?> LoadAsync(string sessionId, CancellationToken cancellationToken = default) =>
            ++Calls <= failures
                ? throw new VoxonStorageException("flaky", "load", sessionId, "connection dropped", transient)
                : Task.FromResult<SessionDocument?>(null);
    }
}
