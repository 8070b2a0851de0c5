using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Voxon.Conversations;
using Voxon.Events;
using Voxon.Memory;
using Voxon.Security;

namespace Voxon.Diagnostics;

/// <summary>
/// Debug mode's recorder: bounded histories of events, state transitions and memory snapshots, so a long
/// session cannot exhaust memory. Nothing it keeps holds message text or a sensitive value.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class SessionDebugger(int capacity)
{
    /// <summary>Events kept by default; transitions get the same, memory snapshots a tenth.</summary>
    public const int DefaultCapacity = 1_000;

    private readonly Lock _gate = new();
    private readonly RingBuffer<DebugEvent> _events = new(capacity);
    private readonly RingBuffer<StateTransition> _transitions = new(capacity);
    private readonly RingBuffer<MemorySnapshot> _snapshots = new(Math.Max(1, capacity / 10));

    /// <summary>Whether an event of this type changes memory (and so deserves a snapshot).</summary>
    public static bool ChangesMemory(string type) =>
        type.StartsWith("memory.", StringComparison.Ordinal) || type == SessionEventNames.MessageSent;

    /// <summary>Records an event, the state transition it implies and, when given, a memory snapshot.</summary>
    public void Record(SessionEvent e, MemorySnapshot? snapshot)
    {
        var transition = TransitionOf(e);
        lock (_gate)
        {
            _events.Add(new DebugEvent(e.Timestamp, e.Type, Describe(e.Data)));
            if (transition is not null)
            {
                _transitions.Add(transition);
            }

            if (snapshot is not null)
            {
                _snapshots.Add(snapshot);
            }
        }
    }

    /// <summary>Records a transition that is not an event (debug mode switched).</summary>
    public void Record(StateTransition transition)
    {
        lock (_gate)
        {
            _transitions.Add(transition);
        }
    }

    /// <summary>What has been recorded so far.</summary>
    public SessionDebugInfo Info(int errorCount)
    {
        lock (_gate)
        {
            return new SessionDebugInfo
            {
                Enabled = true,
                Events = _events.ToList(),
                StateTransitions = _transitions.ToList(),
                MemorySnapshots = _snapshots.ToList(),
                ErrorCount = errorCount,
                DroppedCount = _events.Dropped + _transitions.Dropped + _snapshots.Dropped,
            };
        }
    }

    /// <summary>JSON lines: a header, then events, state transitions and memory snapshots, each oldest first.</summary>
    public static string Export(string sessionId, DateTimeOffset exportedAt, SessionDebugInfo info)
    {
        var text = new StringBuilder();
        text.AppendLine(JsonSerializer.Serialize(
            new DebugLogHeader(sessionId, exportedAt, info.Enabled, info.ErrorCount, info.DroppedCount),
            DebugJsonContext.Default.DebugLogHeader));
        foreach (var e in info.Events)
        {
            text.AppendLine(JsonSerializer.Serialize(e, DebugJsonContext.Default.DebugEvent));
        }

        foreach (var t in info.StateTransitions)
        {
            text.AppendLine(JsonSerializer.Serialize(t, DebugJsonContext.Default.StateTransition));
        }

        foreach (var s in info.MemorySnapshots)
        {
            text.AppendLine(JsonSerializer.Serialize(s, DebugJsonContext.Default.MemorySnapshot));
        }

        return text.ToString();
    }

    /// <summary>A memory entry as debug output may show it: sensitive content replaced, personal data redacted, no embedding.</summary>
    public static MemoryEntry Redact(MemoryEntry entry)
    {
        var redacted = entry.Redacted();
        return redacted with { Content = Redaction.RedactPii(redacted.Content).Text };
    }

    /// <summary>A short description of event data that never includes message text or a sensitive value.</summary>
    internal static string? Describe(object? data) => data switch
    {
        null => null,
        ConversationTurn turn => string.Create(CultureInfo.InvariantCulture,
            $"{(turn.Role == TurnRole.User ? "user" : "assistant")} message, {turn.Content.Length} chars{(turn.ResponseTimeMs is { } ms ? $", {ms:F1} ms" : string.Empty)}{(turn.Interrupted ? ", interrupted" : string.Empty)}"),
        ConversationInfo info => $"conversation {info.ConversationId}, {info.TurnCount} messages",
        ToolCall call => $"tool {call.Name}{(call.Failed ? ", failed" : string.Empty)}",
        MemoryEntry entry => Entry(entry),
        MemorySuperseded superseded => $"{superseded.Slot}: {Entry(superseded.Previous)} -> {Entry(superseded.Current)}",
        IEnumerable<MemoryEntry> entries => string.Join(" | ", entries.Select(Entry)),
        string message => Redaction.RedactPii(message).Text,
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        Sessions.SessionConfig => "session config",
        _ => Redaction.RedactPii(data.ToString() ?? string.Empty).Text,
    };

    private static string Entry(MemoryEntry entry)
    {
        var safe = Redact(entry);
        return $"{safe.Id} [{safe.Category}] {safe.Content}";
    }

    private static StateTransition? TransitionOf(SessionEvent e)
    {
        var conversation = e.Data is ConversationInfo info ? $"conversation {info.ConversationId}" : null;
        return e.Type switch
        {
            SessionEventNames.SessionCreated => new(e.Timestamp, "session", "none", "active"),
            SessionEventNames.SessionLoaded => new(e.Timestamp, "session", "stored", "active"),
            SessionEventNames.SessionClosed => new(e.Timestamp, "session", "active", "closed"),
            SessionEventNames.ConversationStarted when conversation is not null => new(e.Timestamp, conversation, "none", "active"),
            SessionEventNames.ConversationResumed when conversation is not null => new(e.Timestamp, conversation, "ended", "active"),
            SessionEventNames.ConversationEnded when conversation is not null => new(e.Timestamp, conversation, "active", "ended"),
            _ => null,
        };
    }
}

/// <summary>First line of a debug-log export.</summary>
internal sealed record DebugLogHeader(
    [property: JsonPropertyName("session_id")] string SessionId,
    [property: JsonPropertyName("exported_at")] DateTimeOffset ExportedAt,
    [property: JsonPropertyName("debug_enabled")] bool DebugEnabled,
    [property: JsonPropertyName("error_count")] int ErrorCount,
    [property: JsonPropertyName("dropped_count")] long DroppedCount)
{
    [JsonPropertyName("kind")]
    [JsonPropertyOrder(-1)]
    public string Kind => "debug_info";
}

/// <summary>Source-generated JSON for debug-log lines.</summary>
[JsonSourceGenerationOptions(UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DebugLogHeader))]
[JsonSerializable(typeof(DebugEvent))]
[JsonSerializable(typeof(StateTransition))]
[JsonSerializable(typeof(MemorySnapshot))]
internal sealed partial class DebugJsonContext : JsonSerializerContext;
