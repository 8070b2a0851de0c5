using System.Diagnostics.Metrics;

namespace Voxon.Diagnostics;

/// <summary>Instruments of analytics, adaptation and debug mode, on the shared <see cref="VoxonTelemetry.Meter"/>
/// (kept apart from <see cref="VoxonTelemetry"/> so features add instruments without touching each other's files).</summary>
internal static class AnalyticsTelemetry
{
    internal static readonly Histogram<double> TurnCost = VoxonTelemetry.Meter.CreateHistogram<double>(
        "voxon.analytics.turn_cost", "ms", "Time analytics and adaptation add to a turn");

    internal static readonly Counter<long> Milestones = VoxonTelemetry.Meter.CreateCounter<long>(
        "voxon.analytics.milestones", description: "Analytics milestones reached");

    internal static readonly Counter<long> PreferencesLearned = VoxonTelemetry.Meter.CreateCounter<long>(
        "voxon.preferences_learned", description: "Learned preferences that changed meaningfully");

    internal static readonly Counter<long> Interruptions = VoxonTelemetry.Meter.CreateCounter<long>(
        "voxon.interruptions", description: "Assistant replies the user interrupted");

    internal static readonly Counter<long> MetricsTracked = VoxonTelemetry.Meter.CreateCounter<long>(
        "voxon.custom_metrics", description: "Custom metric values tracked");
}
