using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Voxon.Diagnostics;

/// <summary>
/// How a runtime's sessions record to Voxon's instruments and spans (<see cref="VoxonTelemetry"/>,
/// <see cref="AnalyticsTelemetry"/>): <see cref="Recorded"/>, or <see cref="Muted"/> for the warm-up's rehearsal
/// (<see cref="Turns.TurnRehearsal"/>), whose turns are nobody's.
/// </summary>
internal sealed class SessionTelemetry
{
    private readonly bool _on;

    private SessionTelemetry(bool on) => _on = on;

    /// <summary>Records every measurement and span.</summary>
    public static SessionTelemetry Recorded { get; } = new(on: true);

    /// <summary>Records nothing.</summary>
    public static SessionTelemetry Muted { get; } = new(on: false);

    /// <summary>A turn's span; null when nobody listens, or muted.</summary>
    public Activity? StartTurn() => _on ? VoxonTelemetry.Source.StartActivity("voxon.turn") : null;

    public void Add(Counter<long> counter, long delta = 1)
    {
        if (_on)
        {
            counter.Add(delta);
        }
    }

    public void Record<T>(Histogram<T> histogram, T value)
        where T : struct
    {
        if (_on)
        {
            histogram.Record(value);
        }
    }
}
