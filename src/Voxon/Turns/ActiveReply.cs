using System.Text;

namespace Voxon.Turns;

/// <summary>A reply being produced: what has been delivered so far, and the switch that interrupts it.
/// Once closed (about to be recorded) it can no longer be interrupted; a later interruption amends the recorded turn.</summary>
internal sealed class ActiveReply : IDisposable
{
    private readonly CancellationTokenSource _cancel;
    private readonly StringBuilder _delivered = new();
    private readonly Lock _lock = new();
    private Interruption? _interruption;
    private bool _closed;

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

    /// <summary>Interrupts the reply; false when it is already closed.</summary>
    public bool TryInterrupt(Interruption interruption)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return false;
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

    public void Dispose() => _cancel.Dispose();
}
