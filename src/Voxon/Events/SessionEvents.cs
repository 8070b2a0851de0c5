using Microsoft.Extensions.Logging;

namespace Voxon.Events;

/// <summary>
/// Subscriptions to a session's events by exact name (<c>memory.added</c>), prefix (<c>memory.*</c>) or
/// everything (<c>*</c>). A handler that throws is logged and counted and never breaks the session.
/// </summary>
/// <remarks>Thread-safe. Handlers run on the thread that raised the event; async handlers are started
/// there and their failures are observed, not awaited, so a slow handler never delays a turn.</remarks>
public sealed class SessionEvents
{
    private readonly Lock _gate = new();
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

    internal void Raise(SessionEvent e)
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
