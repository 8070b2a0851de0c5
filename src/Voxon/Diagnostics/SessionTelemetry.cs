using System.Diagnostics;

namespace Voxon.Diagnostics;

/// <summary>
/// What a runtime's sessions record to Voxon's instruments and spans (<see cref="VoxonTelemetry"/>,
/// <see cref="AnalyticsTelemetry"/>): turns, replies, errors, analytics, memory. <see cref="Muted"/> records nothing,
/// for the warm-up's rehearsal (<see cref="Turns.TurnRehearsal"/>), whose turns are nobody's.
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

    /// <summary>A completed turn: the model's time and the session layer's own time around it.</summary>
    public void Turn(double responseMs, double overheadMs)
    {
        if (_on)
        {
            VoxonTelemetry.Turns.Add(1);
            VoxonTelemetry.ResponseTime.Record(responseMs);
            VoxonTelemetry.TurnOverhead.Record(overheadMs);
        }
    }

    public void TimeToFirstToken(double ms)
    {
        if (_on)
        {
            VoxonTelemetry.TimeToFirstToken.Record(ms);
        }
    }

    /// <summary>A failed turn or save.</summary>
    public void Error()
    {
        if (_on)
        {
            VoxonTelemetry.Errors.Add(1);
        }
    }

    public void Interruption()
    {
        if (_on)
        {
            AnalyticsTelemetry.Interruptions.Add(1);
        }
    }

    /// <summary>The time analytics and adaptation added to a turn.</summary>
    public void TurnCost(double ms)
    {
        if (_on)
        {
            AnalyticsTelemetry.TurnCost.Record(ms);
        }
    }

    public void Milestone()
    {
        if (_on)
        {
            AnalyticsTelemetry.Milestones.Add(1);
        }
    }

    public void PreferenceLearned()
    {
        if (_on)
        {
            AnalyticsTelemetry.PreferencesLearned.Add(1);
        }
    }

    public void MetricTracked()
    {
        if (_on)
        {
            AnalyticsTelemetry.MetricsTracked.Add(1);
        }
    }

    /// <summary>Memory's size after a change.</summary>
    public void MemoryTokens(long tokens)
    {
        if (_on)
        {
            VoxonTelemetry.MemoryTokens.Record(tokens);
        }
    }

    /// <summary>New memories whose embedding failed.</summary>
    public void EmbeddingFailures(int memories)
    {
        if (_on)
        {
            VoxonTelemetry.EmbeddingFailures.Add(memories);
        }
    }
}
