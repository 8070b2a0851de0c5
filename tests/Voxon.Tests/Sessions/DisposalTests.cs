using Voxon.Events;
using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Tests.Memory;
using Voxon.Tests.TestSupport;

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

    [Fact]
    public async Task Concurrent_disposals_share_one_save_and_none_throws()
    {
        await using var voxon = new TestVoxon();
        var gated = new GatedStorage(voxon.Storage);
        var client = voxon.NewClient(gated);
        var session = await client.CreateSessionAsync("alice");
        session.AddMemory("User likes tea");
        var closed = 0;
        session.Events.On(SessionEventNames.SessionClosed, _ => Interlocked.Increment(ref closed));

        var disposals = Enumerable.Range(0, 8).Select(_ => Task.Run(async () => await session.DisposeAsync())).ToList();
        await gated.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        gated.Release.SetResult();
        await Task.WhenAll(disposals).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, gated.Saves);
        Assert.Equal(1, closed);
        Assert.False(session.IsActive);
        await session.DisposeAsync(); // and again, later: nothing to do
        Assert.Equal(1, gated.Saves);
        Assert.Single((await voxon.Client.LoadSessionAsync(session.SessionId)).GetMemory().Entries);
    }

    [Fact]
    public async Task A_saved_handler_that_saves_and_a_sent_handler_that_sends_do_not_deadlock()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();
        var savedAgain = 0;
        var followUps = 0;
        session.Events.On(SessionEventNames.SessionSaved, _ =>
        {
            // Blocking on purpose: the handler runs on the saving thread, which must no longer hold the save lock.
            if (Interlocked.Increment(ref savedAgain) == 1)
            {
                session.SaveAsync().GetAwaiter().GetResult();
            }
        });
        session.Events.On(SessionEventNames.MessageSent, _ =>
        {
            if (Interlocked.Increment(ref followUps) == 1)
            {
                conversation.SendMessageAsync("And a follow-up from the handler.").GetAwaiter().GetResult();
            }
        });

        await Task.Run(async () =>
        {
            await conversation.SendMessageAsync("Hello there.");
            await session.SaveAsync();
        }).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(4, session.GetTranscript(conversation.ConversationId).Count);
        Assert.Equal(2, savedAgain);
        Assert.Equal(2, session.Version);
    }

    /// <summary>Holds the first save until released, so several callers overlap.</summary>
    private sealed class GatedStorage(SessionStorage inner) : DelegatingSessionStorage(inner)
    {
        private int _saves;

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Saves => Volatile.Read(ref _saves);

        public override async Task SaveChangesAsync(SessionChangeSet changes, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _saves);
            Entered.TrySetResult();
            await Release.Task;
            await base.SaveChangesAsync(changes, cancellationToken);
        }

        // The test's TestVoxon owns the wrapped storage.
        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
