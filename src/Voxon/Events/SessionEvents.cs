using Microsoft.Extensions.Logging;

namespace Voxon.Events;

/// <summary>
/// Subscriptions to a session's events by exact name (<c>memory.added</c>), prefix (<c>memory.*</c>) or
/// everything (<c>*</c>). A handler that throws is logged and counted and never breaks the session.
/// </summary>
/// <remarks>Thread-safe. Handlers run on the thread that raised the event, never while the session holds a lock
/// (events raised inside a save or a turn are delivered when it has released its locks, so a handler may save or
/// send a message); async handlers are started there and their failures are observed, not awaited, so a slow
/// handler never delays a turn.</remarks>
public sealed class SessionEvents
{
    private readonly Lock _gate = new();
    private readonly AsyncLocal<Deferral?> _deferral = new();
    private readonly ILogger _logger;
    private Subscription[] _subscriptions = [];
    private int _handlerErrors;

    internal SessionEvents(ILogger logger) => _logger = logger;

    /// <summary>Raised for every event after the handlers ran; used by debug mode and telemetry.</summary>
    internal event Action<SessionEvent>? Observed;

    /// <summary>How many times a handler threw.</summary>
    public int HandlerErrorCount => Volatile.Read(ref _handlerErrors);

    /// <summary>Subscribes <paramref name="handler"/> to events matching <paramref name="pattern"/>.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    /// <exception cref="ArgumentException">The pattern is empty, or has '*' anywhere but alone or after a final '.'.</exception>
    public IDisposable On(string pattern, Action<SessionEvent> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return Add(pattern, e =>
        {
            handler(e);
            return Task.CompletedTask;
        });
    }

    /// <summary>Subscribes an asynchronous <paramref name="handler"/> to events matching <paramref name="pattern"/>.</summary>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable On(string pattern, Func<SessionEvent, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return Add(pattern, handler);
    }

    private Subscription Add(string pattern, Func<SessionEvent, Task> handler)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var star = pattern.IndexOf('*', StringComparison.Ordinal);
        if (star >= 0 && !(pattern == "*" || (star == pattern.Length - 1 && pattern.EndsWith(".*", StringComparison.Ordinal))))
        {
            throw new ArgumentException($"Event pattern '{pattern}' must be an exact name, a prefix ending in '.*', or '*'.", nameof(pattern));
        }

        var subscription = new Subscription(this, pattern, handler);
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions, subscription];
        }

        return subscription;
    }

    /// <summary>Holds back the events this flow raises until the returned scope is disposed. Take it before acquiring
    /// a lock and dispose it after releasing it: handlers then never run under the lock, so a handler that saves or
    /// sends a message cannot deadlock. Nested scopes join the outermost one.</summary>
    internal IDisposable Defer()
    {
        if (_deferral.Value is { IsOpen: true })
        {
            return Deferral.Joined;
        }

        var deferral = new Deferral(this);
        _deferral.Value = deferral;
        return deferral;
    }

    internal void Raise(SessionEvent e)
    {
        if (_deferral.Value is { } deferral && deferral.TryHold(e))
        {
            return;
        }

        Dispatch(e);
    }

    private void Dispatch(SessionEvent e)
    {
        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            if (!subscription.Matches(e.Type))
            {
                continue;
            }

            try
            {
                var task = subscription.Handler(e);
                if (!task.IsCompleted)
                {
                    _ = ObserveAsync(task, e);
                }
                else if (task.IsFaulted)
                {
                    Failed(e, task.Exception!.GetBaseException());
                }
            }
#pragma warning disable CA1031 // A subscriber's bug must never break the session.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Failed(e, ex);
            }
        }

        Observed?.Invoke(e);
    }

    private async Task ObserveAsync(Task task, SessionEvent e)
    {
        try
        {
            await task;
        }
#pragma warning disable CA1031 // A subscriber's bug must never break the session.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Failed(e, ex);
        }
    }

    private void Failed(SessionEvent e, Exception ex)
    {
        Interlocked.Increment(ref _handlerErrors);
        Diagnostics.VoxonTelemetry.HandlerErrors.Add(1);
        _logger.LogWarning(ex, "A handler of event {EventType} in session {SessionId} threw; the session goes on.", e.Type, e.SessionId);
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions.Where(s => !ReferenceEquals(s, subscription))];
        }
    }

    /// <summary>Events held back while a save or turn holds its locks (see <see cref="Defer"/>).</summary>
    private sealed class Deferral(SessionEvents? owner) : IDisposable
    {
        /// <summary>The scope handed out when one is already open: disposing it does nothing.</summary>
        public static readonly Deferral Joined = new(null);

        private readonly List<SessionEvent> _held = [];
        private bool _closed;

        public bool IsOpen
        {
            get
            {
                lock (_held)
                {
                    return owner is not null && !_closed;
                }
            }
        }

        /// <summary>Queues <paramref name="e"/> unless the scope has ended (a task started inside it may raise later).</summary>
        public bool TryHold(SessionEvent e)
        {
            lock (_held)
            {
                if (_closed || owner is null)
                {
                    return false;
                }

                _held.Add(e);
                return true;
            }
        }

        public void Dispose()
        {
            if (owner is null)
            {
                return;
            }

            SessionEvent[] held;
            lock (_held)
            {
                if (_closed)
                {
                    return;
                }

                _closed = true;
                held = [.. _held];
                _held.Clear();
            }

            if (ReferenceEquals(owner._deferral.Value, this))
            {
                owner._deferral.Value = null;
            }

            foreach (var e in held)
            {
                owner.Dispatch(e);
            }
        }
    }

    private sealed class Subscription(SessionEvents owner, string pattern, Func<SessionEvent, Task> handler) : IDisposable
    {
        public Func<SessionEvent, Task> Handler { get; } = handler;

        public bool Matches(string type) =>
            pattern == "*"
            || (pattern.EndsWith(".*", StringComparison.Ordinal)
                ? type.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
                : string.Equals(pattern, type, StringComparison.Ordinal));

        public void Dispose() => owner.Remove(this);
    }
}
