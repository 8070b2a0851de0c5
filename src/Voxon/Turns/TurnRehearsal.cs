using Voxon.Sessions;

namespace Voxon.Turns;

/// <summary>
/// A first call's turns, played once per process on a throwaway session by <see cref="VoxonClient.WarmUpAsync"/>, so that
/// the first caller does not wait for the JIT compiler: the turn path (memory extraction and embedding, search, context
/// weaving, the streamed reply) is compiled the first time it runs. Measured with <c>voxon voice --say</c> (the models
/// already loaded), time to first audio of a process's first, second and third spoken replies: 163-170, 61 and 25 ms
/// without the rehearsal, 56-72, 15-16 and 17-19 ms with it.
/// </summary>
/// <remarks>The session is never saved (storage is untouched) and answered by the offline engine (a configured model is
/// never called); nothing is logged, and its turns are not counted in Voxon's metrics or traced
/// (<see cref="VoxonRuntime.ForRehearsal"/>). Only with a local embedding generator: a remote one is not called.</remarks>
internal static class TurnRehearsal
{
    /// <summary>What the rehearsal's user says, as a first call goes: who they are and what they like (streamed, as
    /// voice turns are), one more fact, then a question answered from memory.</summary>
    private static readonly string[] Script =
    [
        "Hi, my name is Sam and I like green tea.",
        "I also play the piano on weekends.",
        "What do I like to drink?",
    ];

    /// <summary>Plays the script; returns the last reply.</summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static async Task<string> RunAsync(VoxonRuntime runtime, CancellationToken cancellationToken)
    {
        var rehearsal = runtime.ForRehearsal();
        var session = new Session(rehearsal, new SessionConfig { UserId = "rehearsal" }, rehearsal.Time.GetUtcNow());
        try
        {
            var conversation = await session.StartConversationAsync(cancellationToken: cancellationToken);
            for (var i = 0; i < Script.Length - 1; i++)
            {
                // As a voice pipeline does: the interim words first, then the turn streamed.
                await conversation.PrepareAsync(Script[i], cancellationToken);
                await foreach (var _ in conversation.StreamMessageAsync(Script[i], TimeSpan.FromSeconds(2), cancellationToken))
                {
                }
            }

            var reply = await conversation.SendMessageAsync(Script[^1], cancellationToken);
            await conversation.EndAsync(cancellationToken);
            return reply;
        }
        finally
        {
            // Closed, not disposed: disposing saves.
            await session.CloseAsync(CancellationToken.None);
        }
    }
}
