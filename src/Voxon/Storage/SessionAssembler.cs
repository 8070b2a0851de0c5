using System.Text.Json;
using Voxon.Conversations;
using Voxon.Memory;

namespace Voxon.Storage;

/// <summary>Rebuilds a <see cref="SessionDocument"/> from a base document and/or records applied in order
/// (later records win; removals delete). A record that does not parse makes the whole session corrupt.</summary>
internal sealed class SessionAssembler(string backend, string sessionId)
{
    private readonly Dictionary<string, MemoryEntry> _memory = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Ordinal, ConversationDocument Header)> _conversations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedDictionary<int, ConversationTurn>> _turns = new(StringComparer.Ordinal);
    private SessionDocument? _head;

    /// <summary>The version of the last head applied (0 before any).</summary>
    public long Version => _head?.Version ?? 0;

    public void Seed(SessionDocument document)
    {
        _head = document.WithoutContent();
        foreach (var entry in document.Memory.Entries)
        {
            _memory[entry.Id] = entry;
        }

        for (var i = 0; i < document.Conversations.Count; i++)
        {
            var c = document.Conversations[i];
            _conversations[c.ConversationId] = (i, c.WithoutTurns());
            var turns = TurnsOf(c.ConversationId);
            for (var t = 0; t < c.Turns.Count; t++)
            {
                turns[t] = c.Turns[t];
            }
        }
    }

    /// <summary>Applies a plaintext record.</summary>
    /// <exception cref="SessionCorruptException">The record does not parse.</exception>
    public void Apply(SessionRecord record)
    {
        try
        {
            switch (record.Kind)
            {
                case RecordKind.Head:
                    _head = JsonSerializer.Deserialize(record.Payload, VoxonJsonContext.Default.SessionDocument) ?? throw new JsonException("null head");
                    break;
                case RecordKind.Memory:
                    var entry = SessionRecords.DecodeMemory(record.Payload);
                    _memory[entry.Id] = entry;
                    break;
                case RecordKind.MemoryRemoved:
                    _memory.Remove(record.Key);
                    break;
                case RecordKind.Conversation:
                    var header = JsonSerializer.Deserialize(record.Payload, VoxonJsonContext.Default.ConversationDocument) ?? throw new JsonException("null conversation");
                    _conversations[header.ConversationId] = (record.Index, header);
                    break;
                case RecordKind.Turn:
                    TurnsOf(record.Key)[record.Index] = JsonSerializer.Deserialize(record.Payload, VoxonJsonContext.Default.ConversationTurn) ?? throw new JsonException("null turn");
                    break;
                default:
                    throw new JsonException($"unknown record kind {(int)record.Kind}");
            }
        }
        catch (JsonException ex)
        {
            throw new SessionCorruptException(backend, sessionId, $"a {record.Kind} record '{record.Key}' is invalid: {ex.Message}", ex);
        }
    }

    /// <summary>The session, validated; null when no head was applied (the session is not stored).</summary>
    /// <param name="withContent">False for a metadata-only document (no memory entries, no turns).</param>
    public SessionDocument? Build(bool withContent = true)
    {
        if (_head is null)
        {
            return null;
        }

        var document = _head.WithoutContent();
        var conversations = _conversations.Values.OrderBy(c => c.Ordinal).ThenBy(c => c.Header.StartedAt).ToList();
        foreach (var (_, header) in conversations)
        {
            var copy = header.WithoutTurns();
            if (withContent && _turns.TryGetValue(header.ConversationId, out var turns))
            {
                if (turns.Count > 0 && turns.Keys.Last() != turns.Count - 1)
                {
                    throw new SessionCorruptException(backend, sessionId, $"conversation '{header.ConversationId}' is missing turns");
                }

                copy.Turns = [.. turns.Values];
            }

            document.Conversations.Add(copy);
        }

        if (_turns.Keys.FirstOrDefault(id => !_conversations.ContainsKey(id)) is { } orphan)
        {
            throw new SessionCorruptException(backend, sessionId, $"turns of a missing conversation '{orphan}'");
        }

        if (withContent)
        {
            document.Memory.Entries = [.. _memory.Values.OrderBy(e => e.CreatedAt).ThenBy(e => e.Id, StringComparer.Ordinal)];
        }

        SessionDocumentSerializer.Validate(document, backend, sessionId, withContent);
        return document;
    }

    private SortedDictionary<int, ConversationTurn> TurnsOf(string conversationId)
    {
        if (!_turns.TryGetValue(conversationId, out var turns))
        {
            turns = [];
            _turns[conversationId] = turns;
        }

        return turns;
    }
}
