using Voxon.Sessions;
using Voxon.Tests.Memory;

namespace Voxon.Tests.Sessions;

public sealed class DisposalTests
{
    [Fact]
    public async Task Using_a_disposed_session_fails_with_a_state_error()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        await session.DisposeAsync();

        var error = await Assert.ThrowsAsync<SessionStateException>(() => session.SaveAsync());
        Assert.Contains("closed", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SessionStateException>(() => session.StartConversationAsync());
        Assert.Throws<SessionStateException>(() => session.AddMemory("User likes tea"));
        Assert.False(session.IsActive);
    }
}
