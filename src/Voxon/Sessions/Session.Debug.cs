using Voxon.Diagnostics;
using Voxon.Events;

namespace Voxon.Sessions;

public sealed partial class Session
{
    private SessionDebugger? _debugger;
    private int _errorEvents;

    /// <summary>Whether debug mode is on.</summary>
    public bool IsDebugEnabled => Volatile.Read(ref _debugger) is not null;

    /// <summary>Turns on debug mode (the spec's <c>enable_debug()</c>): from now on events, state transitions and
    /// memory snapshots are recorded in bounded histories. Calling it again keeps what was recorded.</summary>
    /// <param name="capacity">Events and transitions kept (the oldest give way); memory snapshots keep a tenth of it. At least 10.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is below 10 or above 1,000,000.</exception>
    public void EnableDebug(int capacity = SessionDebugger.DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 10);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1_000_000);
        var debugger = new SessionDebugger(capacity);
        if (Interlocked.CompareExchange(ref _debugger, debugger, null) is null)
        {
            debugger.Record(new StateTransition(_runtime.Time.GetUtcNow(), "debug", "off", "on"));
            debugger.Record(new SessionEvent("debug.enabled", SessionId, _runtime.Time.GetUtcNow(), null), TakeMemorySnapshot("debug.enabled"));
        }
    }

    /// <summary>Turns debug mode off and discards what it recorded.</summary>
    public void DisableDebug() => Volatile.Write(ref _debugger, null);

    /// <summary>What debug mode recorded, with the error count (which is kept whether or not debug mode is on).</summary>
    public SessionDebugInfo GetDebugInfo() =>
        Volatile.Read(ref _debugger)?.Info(ErrorCount) ?? new SessionDebugInfo { ErrorCount = ErrorCount };

    /// <summary>The debug record as JSON lines (<c>kind</c>: <c>debug_info</c>, <c>event</c>, <c>state_transition</c>,
    /// <c>memory_snapshot</c>). Message text is left out and sensitive memories read <c>[REDACTED]</c>, so the logs can be shared.</summary>
    public string ExportDebugLogs() => SessionDebugger.Export(SessionId, _runtime.Time.GetUtcNow(), GetDebugInfo());

    private int ErrorCount => Volatile.Read(ref _errorEvents) + Events.HandlerErrorCount;

    /// <summary>Sees every event after its handlers: counts errors, feeds debug mode, notices conversation milestones.</summary>
    private void OnEventObserved(SessionEvent e)
    {
        if (e.Type == SessionEventNames.Error)
        {
            Interlocked.Increment(ref _errorEvents);
        }

        if (Volatile.Read(ref _debugger) is { } debugger)
        {
            debugger.Record(e, SessionDebugger.ChangesMemory(e.Type) ? TakeMemorySnapshot(e.Type) : null);
        }

        if (e.Type == SessionEventNames.ConversationStarted && Config.EnableAnalytics)
        {
            lock (_gate)
            {
                QueueMilestones(e.Timestamp);
            }

            RaisePendingInsights();
        }
    }

    private MemorySnapshot TakeMemorySnapshot(string trigger)
    {
        lock (_gate)
        {
            var now = _runtime.Time.GetUtcNow();
            var live = _memory.Live(now).ToList();
            return new MemorySnapshot(
                now,
                trigger,
                live.Count,
                _memory.TokenCount,
                Config.MaxMemorySize,
                [.. live.OrderByDescending(e => e.UpdatedAt).Take(MemorySnapshot.MaxEntries).Select(SessionDebugger.Redact)]);
        }
    }
}
