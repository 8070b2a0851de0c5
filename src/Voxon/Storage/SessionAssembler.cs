using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
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

    // The last head applied, kept as JSON: a journal holds one head per save and only the last one counts, so only
    // that one is deserialized (at Build); the others are read only up to their version (near the start of a head),
    // their bytes being vouched for by the checksum or authentication tag of their journal frame.
    private byte[]? _pendingHead;
    private long _pendingVersion;

    /// <summary>Ignore memory and turn records (a metadata-only load, built with <c>withContent: false</c>).</summary>
    public bool MetadataOnly { get; init; }

    /// <summary>Memory records from which a load's vectors go to the large object heap or the pinned heap
    /// (<see cref="VectorBlocks"/>, <see cref="MemoryRecordFormat.Decode"/>).</summary>
    internal const int LargeLoadThreshold = 2_000;

    /// <summary>Memory records read all at once from which <see cref="ApplyMemories"/> decodes them on several threads
    /// (a few chunks at least): those a database returns, often sealed, which take longer to open than to read.</summary>
    internal const int SharedDecodeThreshold = 256;

    /// <summary>The version of the last head applied (0 before any).</summary>
    public long Version => _pendingHead is null ? _head?.Version ?? 0 : _pendingVersion;

    public void Seed(SessionDocument document)
    {
        _head = document.WithoutContent();
        _pendingHead = null;
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
    public void Apply(SessionRecord record) => Apply(record.Kind, record.Key, record.Index, record.Payload);

    /// <summary>Applies a record whose key is UTF-8 bytes (made a string only where it is needed).</summary>
    /// <exception cref="SessionCorruptException">The record does not parse.</exception>
    public void Apply(RecordKind kind, ReadOnlySpan<byte> key, int index, ReadOnlySpan<byte> payload) =>
        Apply(kind, kind is RecordKind.MemoryRemoved or RecordKind.Turn ? System.Text.Encoding.UTF8.GetString(key) : null, index, payload);

    /// <summary>Applies a plaintext record given by its parts.</summary>
    /// <exception cref="SessionCorruptException">The record does not parse.</exception>
    public void Apply(RecordKind kind, string? key, int index, ReadOnlySpan<byte> payload)
    {
        try
        {
            switch (kind)
            {
                case RecordKind.Head:
                    _pendingVersion = HeadVersion(payload);
                    if (_pendingHead is null || _pendingHead.Length != payload.Length)
                    {
                        _pendingHead = new byte[payload.Length]; // heads of one session are mostly the same length
                    }

                    payload.CopyTo(_pendingHead);
                    break;
                case RecordKind.Memory or RecordKind.MemoryRemoved or RecordKind.Turn when MetadataOnly:
                    break; // a lazy load: memory and transcripts come later
                case RecordKind.Memory:
                    var entry = MemoryRecordFormat.Decode(payload);
                    _memory[entry.Id] = entry;
                    break;
                case RecordKind.MemoryRemoved:
                    _memory.Remove(key!);
                    break;
                case RecordKind.Conversation:
                    var header = TranscriptRecordFormat.DecodeHeader(payload);
                    _conversations[header.ConversationId] = (index, header);
                    break;
                case RecordKind.Turn:
                    TurnsOf(key!)[index] = TranscriptRecordFormat.DecodeTurn(payload);
                    break;
                default:
                    throw new JsonException($"unknown record kind {(int)kind}");
            }
        }
        catch (JsonException ex)
        {
            throw new SessionCorruptException(backend, sessionId, $"a {kind} record{(key is null ? string.Empty : $" '{key}'")} is invalid: {ex.Message}", ex);
        }
    }

    /// <summary>The top-level <c>version</c> of a head, reading the JSON only up to it (a save's head is mostly
    /// configuration, analytics and preferences after it). Whether the rest is a valid head is checked for the last
    /// head only, when it is deserialized, which also checks that it has this version.</summary>
    /// <exception cref="JsonException">It is not JSON up to a top-level version, or has none.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long HeadVersion(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException("the head is not a JSON object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("version"u8))
                {
                    return reader.Read() ? reader.GetInt64() : throw new JsonException("the head ends at its version");
                }

                reader.Skip(); // a property before the version, with whatever value it has
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new JsonException("the head's version is not a whole number", ex);
        }

        throw new JsonException("the head has no version");
    }

    /// <summary>Deserializes the last head applied.</summary>
    private SessionDocument? Head()
    {
        if (_pendingHead is { } json)
        {
            try
            {
                _head = JsonSerializer.Deserialize(json, VoxonJsonContext.Default.SessionDocument) ?? throw new JsonException("null head");
                if (_head.Version != _pendingVersion)
                {
                    throw new JsonException($"it reads as version {_head.Version} and {_pendingVersion}");
                }
            }
            catch (JsonException ex)
            {
                throw new SessionCorruptException(backend, sessionId, $"a {RecordKind.Head} record is invalid: {ex.Message}", ex);
            }

            _pendingHead = null;
        }

        return _head;
    }

    /// <summary>Applies a memory entry decoded with <see cref="DecodeMemory"/>.</summary>
    public void Apply(MemoryEntry entry) => _memory[entry.Id] = entry;

    /// <summary>Decodes memory record <paramref name="payload"/>, one of <paramref name="count"/> loaded together (or the
    /// <paramref name="count"/>-th of a load that decodes them as they arrive).</summary>
    /// <exception cref="SessionCorruptException">It does not parse.</exception>
    /// <param name="payload">The record.</param>
    /// <param name="count">Records loaded together.</param>
    /// <param name="into">The embedding's slice of a block shared by the load (<see cref="ApplyMemoryRecords"/>), if any.</param>
    public MemoryEntry DecodeMemory(ReadOnlySpan<byte> payload, int count = 1, Memory<float> into = default)
    {
        try
        {
            return MemoryRecordFormat.Decode(payload, pinned: count >= LargeLoadThreshold, into);
        }
        catch (JsonException ex)
        {
            throw new SessionCorruptException(backend, sessionId, $"a {RecordKind.Memory} record is invalid: {ex.Message}", ex);
        }
    }

    /// <summary>Decodes and applies the memory records at <paramref name="memories"/> (offset and length) in
    /// <paramref name="records"/>, the embeddings of consecutive records in shared blocks, each entry holding its
    /// slice: one allocation per block instead of one per memory. A large load (from <see cref="LargeLoadThreshold"/>
    /// records) puts them all in one uninitialized block on the large object heap, which gen0 and gen1 collections
    /// never copy; a small one in blocks of under 80 KB (about 50 vectors of 384 dimensions) on the small object heap,
    /// where a few collections cost less than the fresh pages of a large block (<see cref="VectorBlocks"/>). Measured
    /// in loops of loads, CPU per load: at 10,000 memories 56 ms with one block, 83 ms with a pinned array per vector,
    /// 68 ms with small blocks (31 ms of it collection pauses); at 1,000 memories 1.6-2.0 ms with small blocks or an
    /// array per vector, 4.2-5.4 ms with one block.</summary>
    /// <param name="records">The records.</param>
    /// <param name="memories">Where the memory records are in them.</param>
    /// <param name="keep">The records are in an array of the load's own, never reused: the entries keep their vectors
    /// where they are (<see cref="StoredVectors"/>) instead of copies.</param>
    /// <exception cref="SessionCorruptException">A record does not parse.</exception>
    public void ApplyMemoryRecords(ReadOnlyMemory<byte> records, List<(int Offset, int Length)> memories, bool keep = false)
    {
        var slices = keep && StoredVectors.IsSupported && MemoryMarshal.TryGetArray(records, out var owned)
            ? StoredSlices(owned, memories)
            : VectorSlices(LengthsOf(records.Span, memories), large: memories.Count >= LargeLoadThreshold);
        // Shared with the thread pool only for large loads: plaintext records decode fast enough that at 1,000 memories
        // waiting for a pool thread cost more than it saved (harness core, LoadSessionAsync p50 over four alternating
        // pairs: 3.2-3.5 ms on the calling thread alone, 3.5-5.9 ms shared).
        ApplyMemories(memories.Count, LargeLoadThreshold, (start, entries, _) =>
        {
            for (var i = 0; i < entries.Length; i++)
            {
                var (offset, length) = memories[start + i];
                entries[i] = DecodeMemory(records.Span.Slice(offset, length), memories.Count, slices[start + i]);
            }
        });
    }

    private static int[] LengthsOf(ReadOnlySpan<byte> records, List<(int Offset, int Length)> memories)
    {
        var lengths = new int[memories.Count];
        for (var i = 0; i < memories.Count; i++)
        {
            lengths[i] = MemoryRecordFormat.EmbeddingLength(records.Slice(memories[i].Offset, memories[i].Length));
        }

        return lengths;
    }

    /// <summary>Views of the vectors where the records hold them, in <paramref name="owned"/>'s array.</summary>
    private static Memory<float>[] StoredSlices(ArraySegment<byte> owned, List<(int Offset, int Length)> memories)
    {
        var vectors = new StoredVectors(owned.Array!);
        var slices = new Memory<float>[memories.Count];
        for (var i = 0; i < memories.Count; i++)
        {
            var (offset, length) = memories[i];
            var (start, floats) = MemoryRecordFormat.Embedding(owned.AsSpan(offset, length));
            slices[i] = vectors.View(owned.Offset + offset + start, floats);
        }

        return slices;
    }

    /// <summary>Slices of shared blocks for vectors of <paramref name="lengths"/> floats, in order (see
    /// <see cref="ApplyMemoryRecords"/> and <see cref="VectorBlocks"/>): when <paramref name="large"/>, vectors of one
    /// length share one uninitialized block on the large object heap, else blocks under its threshold.</summary>
    internal static Memory<float>[] VectorSlices(ReadOnlySpan<int> lengths, bool large)
    {
        var slices = new Memory<float>[lengths.Length];
        var blocks = new VectorBlocks(lengths.Length, large);
        for (var i = 0; i < lengths.Length; i++)
        {
            slices[i] = blocks.Take(lengths[i]);
        }

        blocks.Finish();
        return slices;
    }

    /// <summary>Decodes the memory records of a load from <paramref name="start"/> into <paramref name="entries"/> (as
    /// many as it holds), slicing the vectors of those that have no slice yet from <paramref name="blocks"/>, in order.</summary>
    internal delegate void DecodeMemories(int start, Span<MemoryEntry> entries, VectorBlocks blocks);

    /// <summary>Decodes <paramref name="count"/> memory records with <paramref name="decode"/>, a chunk of them at a time,
    /// and applies them in order. From <paramref name="sharedFrom"/> records on, the chunks are shared between the
    /// calling thread and the thread pool (decoding is most of a load's work), the calling thread first doing
    /// <paramref name="alongside"/>.</summary>
    /// <param name="count">The records.</param>
    /// <param name="sharedFrom">Records from which the chunks are shared with the thread pool.</param>
    /// <param name="decode">Decodes a chunk; called on several threads at once.</param>
    /// <param name="alongside">Work of the calling thread that does not touch memory entries, done while the pool
    /// decodes (a Redis load's other records).</param>
    /// <exception cref="SessionCorruptException">A record does not parse.</exception>
    public void ApplyMemories(int count, int sharedFrom, DecodeMemories decode, Action? alongside = null)
    {
        var entries = new MemoryEntry[count];
        var large = count >= LargeLoadThreshold;
        var threads = count < sharedFrom ? 1 : Math.Min(Environment.ProcessorCount, 4);
        // Shared, small chunks, so that whoever is free takes the next one: a busy pool leaves them to the calling
        // thread, and at 1,000 memories both cores of a small machine get an even share. Alone, one chunk: its vectors
        // fill whole blocks.
        var chunk = threads == 1 ? Math.Max(count, 1) : large ? 256 : 64;
        var chunks = (count + chunk - 1) / chunk;
        var helpers = Math.Max(Math.Min(threads, chunks) - 1, 0);
        var next = -1;
        ExceptionDispatchInfo? failure = null;
        void Work()
        {
            try
            {
                for (var c = Interlocked.Increment(ref next); c < chunks; c = Interlocked.Increment(ref next))
                {
                    var records = Math.Min(count - (c * chunk), chunk);
                    var blocks = new VectorBlocks(records, large);
                    decode(c * chunk, entries.AsSpan(c * chunk, records), blocks);
                    blocks.Finish();
                }
            }
            catch (Exception ex)
            {
                Interlocked.Exchange(ref next, chunks); // the others stop after their chunk
                Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(ex), null);
            }
        }

        var pool = new Task[helpers];
        for (var h = 0; h < helpers; h++)
        {
            pool[h] = Task.Run(Work);
        }

        try
        {
            alongside?.Invoke();
        }
        catch
        {
            Interlocked.Exchange(ref next, chunks);
            Task.WaitAll(pool);
            throw;
        }

        Work();
        Task.WaitAll(pool); // chunks taken by the pool; a helper not started yet finds none left
        failure?.Throw();
        _memory.EnsureCapacity(_memory.Count + count);
        foreach (var entry in entries)
        {
            _memory[entry.Id] = entry;
        }
    }

    /// <summary>The session, validated; null when no head was applied (the session is not stored).</summary>
    /// <param name="withContent">False for a metadata-only document (no memory entries, no turns).</param>
    public SessionDocument? Build(bool withContent = true)
    {
        if (Head() is not { } head)
        {
            return null;
        }

        var document = head.WithoutContent();
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
            // Snapshots store entries in this order, so the sort is usually skipped.
            var entries = _memory.Values.ToList();
            for (var i = 1; i < entries.Count; i++)
            {
                if (Compare(entries[i - 1], entries[i]) > 0)
                {
                    SortByCreation(CollectionsMarshal.AsSpan(entries));
                    break;
                }
            }

            document.Memory.Entries = entries;
        }

        SessionDocumentSerializer.Validate(document, backend, sessionId, withContent, memoryKeyedById: true);
        return document;
    }

    /// <summary>Sorts as <see cref="Compare"/> does, on the creation times as numbers (Redis and PostgreSQL read entries
    /// in no particular order, so each of their loads sorts them): measured at 1,000 entries, 0.035-0.045 ms p50 against
    /// 0.17-0.20 ms with a comparison delegate.</summary>
    private static void SortByCreation(Span<MemoryEntry> entries)
    {
        var times = new long[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            times[i] = entries[i].CreatedAt.UtcTicks;
        }

        times.AsSpan().Sort(entries);
        for (var first = 0; first < entries.Length;)
        {
            var end = first + 1;
            while (end < entries.Length && times[end] == times[first])
            {
                end++;
            }

            if (end - first > 1)
            {
                entries[first..end].Sort(Compare); // created at the same moment: by id
            }

            first = end;
        }
    }

    private static int Compare(MemoryEntry a, MemoryEntry b) =>
        a.CreatedAt.CompareTo(b.CreatedAt) is var byTime and not 0 ? byTime : string.CompareOrdinal(a.Id, b.Id);

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
