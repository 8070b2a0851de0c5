using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Voxon.Context;
using Voxon.Conversations;

namespace Voxon.Storage;

/// <summary>
/// How turns and conversation headers are stored as records (PostgreSQL rows, Redis fields, file snapshot and
/// journal): binary, like <see cref="MemoryRecordFormat"/>, so a load copies fields instead of parsing JSON (parsing
/// was most of a load's work besides memory). Fields as <see cref="FieldWriter"/> writes them, little-endian:
/// <list type="bullet">
/// <item>turn: <c>int32 -3 | byte role | Content | timestamp | byte flags (1 response time, 2 audio seconds, 4 time to
/// first token, 8 context, 16 injected ids, 32 injections, 64 tool calls, 128 interrupted) | [float64 response time] |
/// [float64 audio seconds] | [float64 time to first token] | [int32 tokens | int32 budget] | GeneratedContent |
/// [int32 n | n ids] | [int32 n | n (MemoryId | Reason | float64 score | FromBranch)] | [int32 n | n (Name | Arguments |
/// Result | byte failed)]</c>;</item>
/// <item>conversation header: <c>int32 -4 | ConversationId | ParentId | int32 branch point | started | byte flags (1 ended)
/// | [ended] | last activity | float64 duration seconds | int32 injection count</c>.</item>
/// </list>
/// Records written before it are JSON objects (starting with <c>{</c>, never with these markers) and are still read;
/// the session's next snapshot or <c>voxon store migrate</c> writes them in this format.
/// </summary>
/// <remarks>Every property of <see cref="ConversationTurn"/> and of <see cref="ConversationDocument"/> but its turns is
/// written: a property added to them must be added here (a test checks that a round trip keeps them all).</remarks>
internal static class TranscriptRecordFormat
{
    private const int TurnMarker = -3;
    private const int ConversationMarker = -4;

    [Flags]
    private enum TurnFields : byte
    {
        None = 0,
        ResponseTime = 1,
        AudioSeconds = 2,
        TimeToFirstToken = 4,
        Context = 8,
        InjectedIds = 16,
        Injections = 32,
        ToolCalls = 64,
        Interrupted = 128,
    }

    /// <exception cref="ArgumentException">The turn cannot be stored (<see cref="Problem"/>).</exception>
    public static byte[] Encode(ConversationTurn turn)
    {
        // Refused here, before it is stored, rather than stored and then refused by every load.
        if (Problem(turn) is { } problem)
        {
            throw new ArgumentException("a turn " + problem, nameof(turn));
        }

        return FieldWriter.Record(turn, Write);
    }

    /// <summary>What keeps <paramref name="turn"/> from being stored (an unknown role, a null text where one is
    /// required, a null item in a list), or null; import refuses such turns too.</summary>
    public static string? Problem(ConversationTurn turn) =>
        !Enum.IsDefined(turn.Role) ? $"has an unknown role {(int)turn.Role}"
        : turn.Content is null ? "has no content"
        : turn.InjectedMemoryIds?.Any(id => id is null) == true || turn.Injections?.Any(i => i?.MemoryId is null || i.Reason is null) == true
            || turn.ToolCalls?.Any(c => c?.Name is null) == true ? "lists a null injected memory, reason or tool call"
        : null;

    /// <summary>The header of <paramref name="conversation"/> (its turns are records of their own).</summary>
    public static byte[] EncodeHeader(ConversationDocument conversation) => FieldWriter.Record(conversation, Write);

    /// <summary>Reads a turn record in either format.</summary>
    /// <exception cref="JsonException">The record is malformed.</exception>
    public static ConversationTurn DecodeTurn(ReadOnlySpan<byte> payload) =>
        Decode(payload, TurnMarker, ReadTurn, VoxonJsonContext.Default.ConversationTurn);

    /// <summary>Reads a conversation header record in either format.</summary>
    /// <exception cref="JsonException">The record is malformed.</exception>
    public static ConversationDocument DecodeHeader(ReadOnlySpan<byte> payload) =>
        Decode(payload, ConversationMarker, ReadConversation, VoxonJsonContext.Default.ConversationDocument);

    private delegate T ReadBinary<T>(ref FieldReader reader);

    private static T Decode<T>(ReadOnlySpan<byte> payload, int marker, ReadBinary<T> read, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> json)
        where T : class
    {
        if (payload.Length < 4 || BinaryPrimitives.ReadInt32LittleEndian(payload) != marker)
        {
            return JsonSerializer.Deserialize(payload, json) ?? throw new JsonException("null record");
        }

        try
        {
            var reader = new FieldReader(payload[4..]);
            var value = read(ref reader);
            return reader.AtEnd ? value : throw new FormatException("bytes after the last field");
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or IndexOutOfRangeException)
        {
            throw new JsonException($"the {typeof(T).Name} record is malformed: {ex.Message}", ex);
        }
    }

    private static void Write(ref FieldWriter writer, ConversationTurn turn)
    {
        var fields = (turn.ResponseTimeMs is null ? 0 : TurnFields.ResponseTime)
            | (turn.AudioSeconds is null ? 0 : TurnFields.AudioSeconds)
            | (turn.TimeToFirstTokenMs is null ? 0 : TurnFields.TimeToFirstToken)
            | (turn.Context is null ? 0 : TurnFields.Context)
            | (turn.InjectedMemoryIds is null ? 0 : TurnFields.InjectedIds)
            | (turn.Injections is null ? 0 : TurnFields.Injections)
            | (turn.ToolCalls is null ? 0 : TurnFields.ToolCalls)
            | (turn.Interrupted ? TurnFields.Interrupted : 0);
        writer.Int32(TurnMarker);
        writer.Byte((byte)turn.Role);
        writer.String(turn.Content);
        writer.Time(turn.Timestamp);
        writer.Byte((byte)fields);
        Optional(ref writer, turn.ResponseTimeMs);
        Optional(ref writer, turn.AudioSeconds);
        Optional(ref writer, turn.TimeToFirstTokenMs);
        if (turn.Context is { } context)
        {
            writer.Int32(context.Tokens);
            writer.Int32(context.Budget);
        }

        writer.String(turn.GeneratedContent);
        if (turn.InjectedMemoryIds is { } ids)
        {
            writer.Int32(ids.Count);
            foreach (var id in ids)
            {
                writer.String(id);
            }
        }

        if (turn.Injections is { } injections)
        {
            writer.Int32(injections.Count);
            foreach (var injection in injections)
            {
                writer.String(injection.MemoryId);
                writer.String(injection.Reason);
                writer.Double(injection.Score);
                writer.String(injection.FromBranch);
            }
        }

        if (turn.ToolCalls is { } calls)
        {
            writer.Int32(calls.Count);
            foreach (var call in calls)
            {
                writer.String(call.Name);
                writer.String(call.Arguments);
                writer.String(call.Result);
                writer.Byte(call.Failed ? (byte)1 : (byte)0);
            }
        }
    }

    private static void Optional(ref FieldWriter writer, double? value)
    {
        if (value is { } present)
        {
            writer.Double(present);
        }
    }

    // Bit tests rather than Enum.HasFlag, which boxes both values until tiered compilation optimizes the method.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ConversationTurn ReadTurn(ref FieldReader reader)
    {
        var role = (TurnRole)reader.Byte();
        var content = reader.Required("content");
        var timestamp = reader.Time();
        var fields = (TurnFields)reader.Byte();
        if (!Enum.IsDefined(role))
        {
            throw new FormatException($"role {(int)role} is unknown");
        }

        double? responseTime = (fields & TurnFields.ResponseTime) != 0 ? reader.Double() : null;
        double? audioSeconds = (fields & TurnFields.AudioSeconds) != 0 ? reader.Double() : null;
        double? timeToFirstToken = (fields & TurnFields.TimeToFirstToken) != 0 ? reader.Double() : null;
        var context = (fields & TurnFields.Context) != 0 ? new ContextUsage(reader.Int32(), reader.Int32()) : null;
        var generated = reader.String();
        string[]? ids = null;
        if ((fields & TurnFields.InjectedIds) != 0)
        {
            ids = new string[reader.Count(4)];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = reader.Required("injected memory id", recurring: true);
            }
        }

        InjectedMemory[]? injections = null;
        if ((fields & TurnFields.Injections) != 0)
        {
            injections = new InjectedMemory[reader.Count(20)];
            for (var i = 0; i < injections.Length; i++)
            {
                injections[i] = new InjectedMemory(reader.Required("memory id", recurring: true), reader.Required("reason", recurring: true), reader.Double(), reader.Recurring());
            }
        }

        ToolCall[]? calls = null;
        if ((fields & TurnFields.ToolCalls) != 0)
        {
            calls = new ToolCall[reader.Count(13)];
            for (var i = 0; i < calls.Length; i++)
            {
                calls[i] = new ToolCall(reader.Required("tool name", recurring: true), reader.String(), reader.String(), reader.Byte() switch
                {
                    0 => false,
                    1 => true,
                    var other => throw new FormatException($"failed flag {other}"),
                });
            }
        }

        return new ConversationTurn
        {
            Role = role,
            Content = content,
            Timestamp = timestamp,
            ResponseTimeMs = responseTime,
            AudioSeconds = audioSeconds,
            TimeToFirstTokenMs = timeToFirstToken,
            Context = context,
            GeneratedContent = generated,
            InjectedMemoryIds = ids,
            Injections = injections,
            ToolCalls = calls,
            Interrupted = (fields & TurnFields.Interrupted) != 0,
        };
    }

    private static void Write(ref FieldWriter writer, ConversationDocument conversation)
    {
        writer.Int32(ConversationMarker);
        writer.String(conversation.ConversationId);
        writer.String(conversation.ParentId);
        writer.Int32(conversation.BranchPoint);
        writer.Time(conversation.StartedAt);
        writer.Byte(conversation.EndedAt is null ? (byte)0 : (byte)1);
        if (conversation.EndedAt is { } ended)
        {
            writer.Time(ended);
        }

        writer.Time(conversation.LastActivityAt);
        writer.Double(conversation.DurationSeconds);
        writer.Int32(conversation.InjectionCount);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ConversationDocument ReadConversation(ref FieldReader reader)
    {
        var id = reader.Required("conversation id");
        var parent = reader.String();
        var branchPoint = reader.Int32();
        var started = reader.Time();
        DateTimeOffset? ended = reader.Byte() switch
        {
            0 => null,
            1 => reader.Time(),
            var other => throw new FormatException($"ended flag {other}"),
        };
        return new ConversationDocument
        {
            ConversationId = id,
            ParentId = parent,
            BranchPoint = branchPoint,
            StartedAt = started,
            EndedAt = ended,
            LastActivityAt = reader.Time(),
            DurationSeconds = reader.Double(),
            InjectionCount = reader.Int32(),
        };
    }
}
