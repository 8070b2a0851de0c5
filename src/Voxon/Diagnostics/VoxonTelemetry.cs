using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Voxon.Diagnostics;

/// <summary>
/// The names OpenTelemetry listens to: <c>AddSource("Voxon")</c> and <c>AddMeter("Voxon")</c>.
/// </summary>
public static class VoxonTelemetry
{
    /// <summary>Name of the <see cref="ActivitySource"/> and the <see cref="Meter"/>.</summary>
    public const string Name = "Voxon";

    internal static readonly ActivitySource Source = new(Name);
    internal static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Turns = Meter.CreateCounter<long>("voxon.turns", description: "Conversation turns completed");
    internal static readonly Histogram<double> ResponseTime = Meter.CreateHistogram<double>("voxon.response_time", "ms", "Time the engine took to answer a turn");
    internal static readonly Histogram<double> TimeToFirstToken = Meter.CreateHistogram<double>("voxon.time_to_first_token", "ms", "Time from the user's message to the first chunk of a streamed reply");
    internal static readonly Histogram<double> TurnOverhead = Meter.CreateHistogram<double>("voxon.turn_overhead", "ms", "Session-layer time of a turn, engine excluded");
    internal static readonly Histogram<double> RealtimeContextUpdate = Meter.CreateHistogram<double>("voxon.realtime.context_update", "ms", "From a realtime transcription to the session.update carrying the context re-woven from its words");
    internal static readonly Histogram<double> RealtimeContextRefined = Meter.CreateHistogram<double>("voxon.realtime.context_refined", "ms", "From a realtime transcription to the second session.update, with the context woven from the words' embedding too (sent only when it differs)");
    internal static readonly Counter<long> Errors = Meter.CreateCounter<long>("voxon.errors", description: "Operations that failed");
    internal static readonly Counter<long> HandlerErrors = Meter.CreateCounter<long>("voxon.event_handler_errors", description: "Event handlers that threw");
    internal static readonly Counter<long> SkippedRecords = Meter.CreateCounter<long>("voxon.storage.skipped_records", description: "Stored records a listing skipped because they are unreadable");
    internal static readonly Counter<long> EmbeddingFailures = Meter.CreateCounter<long>("voxon.memory.embedding_failures", "{memory}", "New memories whose embedding failed (found by their words until a save or load embeds them)");
    internal static readonly Histogram<long> MemoryTokens = Meter.CreateHistogram<long>("voxon.memory_tokens", "{token}", "Memory size after a change");
}
