using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Voxon.Tests.TestSupport;

/// <summary>Collects every log message (all categories and levels).</summary>
public sealed class LogCollector : ILoggerProvider, ILogger
{
    private readonly ConcurrentQueue<string> _messages = new();

    public LogCollector() => Factory = LoggerFactory.Create(b => b.AddProvider(this).SetMinimumLevel(LogLevel.Trace));

    public ILoggerFactory Factory { get; }

    public IReadOnlyList<string> Messages => [.. _messages];

    /// <summary>Waits (in real time, at most 30 s) for a message containing <paramref name="fragment"/>: for work that a
    /// fake clock started on the thread pool.</summary>
    public async Task WaitForAsync(string fragment)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!Messages.Any(m => m.Contains(fragment, StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no log message containing '{fragment}' within 30 seconds");
            await Task.Delay(10);
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _messages.Enqueue(formatter(state, exception));

    public void Dispose()
    {
    }
}
