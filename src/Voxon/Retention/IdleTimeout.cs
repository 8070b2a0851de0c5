using Microsoft.Extensions.Logging;
using Voxon.Sessions;

namespace Voxon.Retention;

/// <summary>
/// The idle timeout of one open session (<see cref="VoxonOptions.SessionTimeout"/>). Every operation on the session
/// touches the clock; a timer from the <see cref="TimeProvider"/> checks it when the timeout may have passed, saves the
/// session, and closes it only if, under the session's lock, nothing happened since the check and no turn is in flight.
/// Otherwise the clock restarts from the last activity.
/// </summary>
/// <remarks>A failed save leaves the session open (nothing unsaved is dropped); the timer tries again one timeout later.</remarks>
internal sealed class IdleTimeout : IDisposable
{
    // The timeout's own save goes through the session's operations; it must not count as activity.
    private static readonly AsyncLocal<bool> Closing = new();

    private readonly Session _session;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private long _lastActivity;
    private long _activity;
    private int _timedOut;

    public IdleTimeout(Session session, TimeSpan timeout, TimeProvider time, ILogger logger)
    {
        _session = session;
        _time = time;
        _logger = logger;
        Timeout = timeout;
        _lastActivity = time.GetTimestamp();
        _timer = time.CreateTimer(_ => _ = CheckAsync(), null, timeout, System.Threading.Timeout.InfiniteTimeSpan);
    }

    /// <summary>The idle time after which the session is closed.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Whether the timeout closed the session.</summary>
    public bool TimedOut => Volatile.Read(ref _timedOut) == 1;

    /// <summary>Records activity: the clock restarts. Called under the session's lock by every operation.</summary>
    public void Touch()
    {
        if (!Closing.Value)
        {
            Interlocked.Exchange(ref _lastActivity, _time.GetTimestamp());
            Interlocked.Increment(ref _activity);
        }
    }

    /// <summary>The message for a call on the session after the timeout closed it; null when it did not.</summary>
    public string? ClosedMessage(string sessionId) => TimedOut
        ? $"Session '{sessionId}' was closed after {Timeout} without activity (session_timeout) and saved; load it again with LoadSessionAsync(\"{sessionId}\") to continue."
        : null;

    public void Dispose() => _timer.Dispose();

    private async Task CheckAsync()
    {
        var idle = _time.GetElapsedTime(Interlocked.Read(ref _lastActivity));
        if (idle < Timeout)
        {
            Arm(Timeout - idle);
            return;
        }

        var seen = Interlocked.Read(ref _activity);
        try
        {
            Closing.Value = true;
            await _session.SaveIfOpenAsync();
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Session {SessionId} was idle for {Timeout} but could not be saved; it stays open and the save is tried again after another {Timeout}.", _session.SessionId, Timeout, Timeout);
            Arm(Timeout);
            return;
        }
        finally
        {
            Closing.Value = false;
        }

        // Atomic with every operation's touch (both under the session's lock): a call either came before and keeps the
        // session open, or comes after and finds it closed.
        if (_session.Close(() => Interlocked.Read(ref _activity) == seen && Interlocked.Exchange(ref _timedOut, 1) == 0))
        {
            _logger.LogInformation("Session {SessionId} was closed after {Timeout} without activity.", _session.SessionId, Timeout);
        }
        else if (_session.IsActive)
        {
            // Activity during the save, or a turn in flight: its end touches the clock, counted from there.
            _logger.LogDebug("Session {SessionId} stays open: it was used during the idle check or a turn is in flight; checking again in {Timeout}.", _session.SessionId, Timeout);
            Arm(Timeout);
        }
    }

    private void Arm(TimeSpan due)
    {
        try
        {
            _timer.Change(due, System.Threading.Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The session was closed meanwhile.
        }
    }
}
