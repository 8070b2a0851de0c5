using Voxon.Conversations;
using Voxon.Turns;

namespace Voxon.Engine.Speech;

/// <summary>
/// Prepares a conversation for the words the user is probably saying while the recognizer is still listening: the
/// latest interim text goes to <see cref="Conversation.PrepareAsync"/> on a background loop, one at a time, texts that
/// were overtaken before their turn came skipped. <see cref="Offer"/> never waits, so receiving updates is not slowed.
/// </summary>
/// <remarks>A preparation that fails is dropped: the turn meets the same error and reports it.</remarks>
internal sealed class InterimPreparer(Conversation conversation, CancellationToken cancellationToken) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    private readonly Lock _gate = new();
    private string? _latest;
    private string? _prepared;
    private bool _running;
    private Task _loop = Task.CompletedTask;

    /// <summary>The words the user is probably saying now; prepared in the background.</summary>
    public void Offer(string text)
    {
        text = text.Trim();
        if (text.Length == 0 || text.Length > TurnPipeline.MaxMessageLength)
        {
            return;
        }

        lock (_gate)
        {
            _latest = text;
            if (!_running)
            {
                _running = true;
                _loop = Task.Run(LoopAsync, CancellationToken.None);
            }
        }
    }

    /// <summary>Before the turn on <paramref name="final"/>: waits for the preparation when it is of these words (it is
    /// part done, the turn would only encode them again), otherwise stops it.</summary>
    public async Task FinishAsync(string final)
    {
        Task loop;
        lock (_gate)
        {
            loop = _loop;
            if (_latest != final)
            {
                _stop.Cancel();
            }
        }

        await loop;
    }

    private async Task LoopAsync()
    {
        while (true)
        {
            string next;
            lock (_gate)
            {
                if (_stop.IsCancellationRequested || _latest is null || _latest == _prepared)
                {
                    _running = false;
                    return;
                }

                next = _latest;
            }

            try
            {
                await conversation.PrepareAsync(next, _stop.Token);
            }
            catch (Exception)
            {
                // Cancelled (overtaken or the turn was cancelled) or refused (e.g. the session closed): the turn decides.
            }

            lock (_gate)
            {
                _prepared = next;
            }
        }
    }

    /// <summary>Stops any preparation and waits for it to end.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
