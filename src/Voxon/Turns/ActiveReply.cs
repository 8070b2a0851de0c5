using System.Text;

namespace Voxon.Turns;

/// <summary>A reply being produced: what has been delivered so far, and the switch that interrupts it.
/// Once closed (being recorded) it can no longer be stopped: an interruption then is kept for the turn being recorded
/// (<see cref="Recorded"/>); once recorded, an interruption amends the recorded turn.</summary>
internal sealed class ActiveReply : IDisposable
{
    private readonly CancellationTokenSource _cancel;
    private readonly StringBuilder _delivered = new();
    private readonly Lock _lock = new();
    private Interruption? _interruption;
    private Interruption? _late;
    private bool _closed;
    private bool _recorded;

    public ActiveReply(CancellationToken callerToken)
    {
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
    }

    /// <summary>Cancelled by the caller's token or by an interruption.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>Whether any of the reply reached the caller.</summary>
    public bool AnyDelivered
    {
        get
        {
            lock (_lock)
            {
                return _delivered.Length > 0;
            }
        }
    }

    /// <summary>Notes a chunk handed to the caller.</summary>
    public void Deliver(string chunk)
    {
        lock (_lock)
        {
            _delivered.Append(chunk);
        }
    }

    /// <summary>Interrupts the reply.</summary>
    /// <returns>True when taken; false when the reply being recorded was already interrupted; null when the reply is
    /// recorded (the recorded turn is the one to amend).</returns>
    public bool? TryInterrupt(Interruption interruption)
    {
        lock (_lock)
        {
            if (_recorded)
            {
                return null;
            }

            if (_closed)
            {
                // Being recorded: the last recorded reply is still the one before, so this one takes the interruption after.
                if (_interruption is not null || _late is not null)
                {
                    return false;
                }

                _late = interruption;
                return true;
            }

            _interruption ??= interruption;
        }

        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Closed and disposed since the check: the turn was recorded with this interruption already taken.
        }

        return true;
    }

    /// <summary>Closes the reply to interruptions and returns what was delivered and how it was interrupted (null: not interrupted).</summary>
    public (string Delivered, Interruption? Interruption) Close()
    {
        lock (_lock)
        {
            _closed = true;
            return (_delivered.ToString(), _interruption);
        }
    }

    /// <summary>Marks the reply recorded and returns the interruption that came while it was being recorded, if any.</summary>
    public Interruption? Recorded()
    {
        lock (_lock)
        {
            _recorded = true;
            return _late;
        }
    }

    public void Dispose() => _cancel.Dispose();
}
