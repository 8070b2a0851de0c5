using System.Buffers;
using System.Text;
using Voxon.Memory;

namespace Voxon.Storage;

/// <summary>
/// One load of a session's records through a <see cref="SessionRecordCodec"/>, taking records as the backend reads
/// them. Memory records a backend reads one by one (<see cref="Reserve"/>) are copied once, from the driver into a
/// batch, and each full batch is opened and decoded on the thread pool while the next rows arrive: decryption and
/// decoding overlap the read instead of following it. Other records are applied at once.
/// </summary>
/// <remarks>Used by one thread (the backend's read), but for the batches and chunks it hands to the thread pool itself. Dispose
/// it (after <see cref="BuildAsync"/> or after a failed read): it waits for batches still decoding before their
/// buffers go back to the pool.</remarks>
internal sealed class RecordLoad : IAsyncDisposable
{
    /// <summary>Bytes of memory records per batch (about 150 records with embeddings of 384 dimensions).</summary>
    private const int BatchBytes = 256 * 1024;

    private readonly SessionRecordCodec _codec;
    private readonly string _sessionId;
    private readonly bool _withContent;
    private readonly SessionAssembler _assembler;
    private readonly RecordOpener _opener; // of the backend's read thread
    private readonly List<Batch> _batches = [];
    private readonly List<Task> _decoding = [];
    private byte[] _scratch = [];
    private byte[] _preparedKeyId = [];
    private int _memories;
    private int _oldKey;

    public RecordLoad(SessionRecordCodec codec, string sessionId, bool withContent)
    {
        (_codec, _sessionId, _withContent) = (codec, sessionId, withContent);
        _assembler = new SessionAssembler(codec.Backend, sessionId) { MetadataOnly = !withContent };
        _opener = new RecordOpener(codec, sessionId);
    }

    /// <summary>Where to copy a stored record of <paramref name="length"/> bytes before <see cref="Add(RecordKind, string, int, ArraySegment{byte})"/>:
    /// the open batch for a memory record, else a scratch buffer that the next record reuses.</summary>
    public ArraySegment<byte> Reserve(RecordKind kind, int length)
    {
        if (kind != RecordKind.Memory || !_withContent)
        {
            if (_scratch.Length < length)
            {
                Return(_scratch);
                _scratch = ArrayPool<byte>.Shared.Rent(length);
            }

            return new ArraySegment<byte>(_scratch, 0, length);
        }

        if (_batches.Count == 0 || _batches[^1].Used + length > _batches[^1].Bytes.Length)
        {
            Dispatch();
            _batches.Add(new Batch(ArrayPool<byte>.Shared.Rent(Math.Max(BatchBytes, length))));
        }

        return new ArraySegment<byte>(_batches[^1].Bytes, _batches[^1].Used, length);
    }

    /// <summary>The key id of <paramref name="stored"/> when its key must be fetched (<see cref="FetchKeyAsync"/>) before
    /// it is added; null when it is plaintext or its key was fetched by this load.</summary>
    public string? KeyToFetch(ReadOnlySpan<byte> stored)
    {
        var id = SessionEncryption.KeyIdBytes(stored);
        return id.IsEmpty || id.SequenceEqual(_preparedKeyId) ? null : Encoding.ASCII.GetString(id);
    }

    /// <summary>Fetches the key <paramref name="keyId"/> (from <see cref="KeyToFetch"/>) from the key ring.</summary>
    /// <exception cref="SessionCorruptException">It cannot be unwrapped.</exception>
    public async ValueTask FetchKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        await _codec.PrepareKeysAsync([keyId], _sessionId, cancellationToken);
        _preparedKeyId = Encoding.ASCII.GetBytes(keyId);
    }

    /// <summary>Adds a record copied where <see cref="Reserve"/> said (its key fetched: <see cref="KeyToFetch"/>): a
    /// memory record joins its batch, another is opened and applied at once.</summary>
    /// <exception cref="SessionCorruptException">It does not open or parse.</exception>
    public void Add(RecordKind kind, string key, int index, ArraySegment<byte> reserved)
    {
        if (kind == RecordKind.Memory && _withContent)
        {
            var batch = _batches[^1];
            batch.Records.Add((key, index, reserved.Offset, reserved.Count, ++_memories));
            batch.Used += reserved.Count;
            return;
        }

        Add(kind, key, index, reserved.AsSpan());
    }

    /// <summary>Opens and applies one stored record at once (its key fetched: <see cref="KeyToFetch"/>).</summary>
    /// <exception cref="SessionCorruptException">It does not open or parse.</exception>
    public void Add(RecordKind kind, string key, int index, ReadOnlySpan<byte> stored)
    {
        var oldKey = false;
        if (kind == RecordKind.Memory && _withContent)
        {
            _assembler.Apply(Open(_opener, kind, key, index, stored, ++_memories, ref oldKey));
        }
        else if (kind != RecordKind.Memory)
        {
            _opener.Open(kind, key, index, stored, ref oldKey, payload =>
            {
                _assembler.Apply(kind, key, index, payload);
                return true;
            });
        }

        if (oldKey)
        {
            Volatile.Write(ref _oldKey, 1); // memory records may be decoding on other threads (AddMemories)
        }
    }

    /// <summary>Opens and applies memory records of distinct memories read all at once, decoding them on several
    /// threads when there are many (their keys fetched), their vectors sliced from shared blocks as each record's
    /// vector length becomes known once it is opened (<see cref="VectorBlocks"/>) instead of an array each, which at
    /// 10,000 memories (a pinned array per vector) made decoding take three times as long.</summary>
    /// <param name="memories">The memory records.</param>
    /// <param name="others">Records of other kinds read with them, opened and applied on the calling thread while the
    /// thread pool starts on the memory records.</param>
    /// <exception cref="SessionCorruptException">One does not open or parse.</exception>
    public void AddMemories(List<SessionRecord> memories, List<SessionRecord> others)
    {
        var first = _memories;
        _memories += memories.Count;
        _assembler.ApplyMemories(memories.Count, SessionAssembler.SharedDecodeThreshold, (start, entries, blocks) =>
        {
            var old = false;
            using var opener = new RecordOpener(_codec, _sessionId);
            for (var i = 0; i < entries.Length; i++)
            {
                var (kind, key, index, payload) = memories[start + i];
                var sequence = Math.Max(first + start + i + 1, memories.Count);
                entries[i] = opener.Open(kind, key, index, payload, ref old,
                    plaintext => _assembler.DecodeMemory(plaintext, sequence, blocks.Take(MemoryRecordFormat.EmbeddingLength(plaintext))));
            }

            if (old)
            {
                Volatile.Write(ref _oldKey, 1);
            }
        }, () =>
        {
            foreach (var record in others)
            {
                Add(record.Kind, record.Key, record.Index, record.Payload);
            }
        });
    }

    /// <summary>The session, validated (null when no head was read), once every batch is decoded; notes for the next
    /// save whether an old key was read.</summary>
    /// <exception cref="SessionCorruptException">A record does not open or parse, the session is not valid, or records are missing.</exception>
    public async Task<SessionDocument?> BuildAsync()
    {
        // Batches the thread pool has not started yet are decoded here rather than waited for.
        Dispatch();
        foreach (var batch in _batches)
        {
            Decode(batch);
        }

        await Task.WhenAll(_decoding);
        foreach (var batch in _batches)
        {
            foreach (var entry in batch.Entries!)
            {
                _assembler.Apply(entry);
            }
        }

        _codec.NoteKey(_sessionId, _oldKey == 1);
        return _assembler.Build(_withContent);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Task.WhenAll(_decoding);
        }
        catch (SessionCorruptException)
        {
            // Reported by BuildAsync; here the batches only have to be finished with.
        }

        foreach (var batch in _batches)
        {
            Return(batch.Bytes);
        }

        Return(_scratch);
        _opener.Dispose();
        _batches.Clear();
        _scratch = [];
    }

    /// <summary>Hands the last batch to the thread pool, unless it is empty.</summary>
    private void Dispatch()
    {
        if (_batches.Count > 0 && _batches[^1] is { Records.Count: > 0 } batch)
        {
            _decoding.Add(Task.Run(() => Decode(batch)));
        }
    }

    /// <summary>Decodes <paramref name="batch"/> unless another thread has taken it, its vectors sliced from shared blocks
    /// (<see cref="SessionAssembler.VectorSlices"/>: one per batch once the load is large) instead of an array each:
    /// measured at 10,000 memories, the vectors allocated one by one (on the pinned heap) made decoding most of a load.
    /// Sealed records are opened into one pooled buffer first, as their embedding lengths are only known once opened.</summary>
    private void Decode(Batch batch)
    {
        if (Interlocked.Exchange(ref batch.Taken, 1) == 1)
        {
            return;
        }

        var old = false;
        using var opener = new RecordOpener(_codec, _sessionId);
        var records = batch.Records;
        var sealedRecords = records.Exists(r => SessionEncryption.IsEnvelope(batch.Bytes.AsSpan(r.Offset, r.Length)));
        var plaintext = sealedRecords ? ArrayPool<byte>.Shared.Rent(batch.Used) : batch.Bytes;
        var (opened, at) = (new (int Offset, int Length)[records.Count], 0);
        try
        {
            var lengths = new int[records.Count];
            for (var i = 0; i < records.Count; i++)
            {
                var (key, index, offset, length, _) = records[i];
                opened[i] = sealedRecords
                    ? (at, opener.Open(RecordKind.Memory, key, index, batch.Bytes.AsSpan(offset, length), ref old, payload =>
                    {
                        payload.CopyTo(plaintext.AsSpan(at)); // opened records are no longer than stored ones
                        return payload.Length;
                    }))
                    : (offset, length);
                at += sealedRecords ? opened[i].Length : 0;
                lengths[i] = MemoryRecordFormat.EmbeddingLength(plaintext.AsSpan(opened[i].Offset, opened[i].Length));
            }

            var slices = SessionAssembler.VectorSlices(lengths, large: records[^1].Sequence >= SessionAssembler.LargeLoadThreshold);
            var entries = new MemoryEntry[records.Count];
            for (var i = 0; i < entries.Length; i++)
            {
                var (key, index, offset, length, sequence) = records[i];
                entries[i] = sealedRecords
                    ? _assembler.DecodeMemory(plaintext.AsSpan(opened[i].Offset, opened[i].Length), sequence, slices[i])
                    : Open(opener, RecordKind.Memory, key, index, batch.Bytes.AsSpan(offset, length), sequence, ref old, slices[i]);
            }

            batch.Entries = entries;
        }
        finally
        {
            if (sealedRecords)
            {
                // Opened records do not stay behind in a shared pool.
                plaintext.AsSpan(0, at).Clear();
                ArrayPool<byte>.Shared.Return(plaintext);
            }
        }

        if (old)
        {
            Volatile.Write(ref _oldKey, 1);
        }
    }

    /// <summary>Opens and decodes the <paramref name="sequence"/>-th memory record of the load (vectors of large loads
    /// go to the pinned heap: <see cref="SessionAssembler.DecodeMemory"/>).</summary>
    private MemoryEntry Open(RecordOpener opener, RecordKind kind, string key, int index, ReadOnlySpan<byte> stored, int sequence, ref bool oldKey, Memory<float> into = default) =>
        opener.Open(kind, key, index, stored, ref oldKey, payload => _assembler.DecodeMemory(payload, sequence, into));

    private static void Return(byte[] buffer)
    {
        if (buffer.Length > 0)
        {
            // Sealed or not, these were a session's records: they do not stay behind in a shared pool.
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>Memory records copied into one pooled buffer, decoded together.</summary>
    private sealed class Batch(byte[] bytes)
    {
        public byte[] Bytes { get; } = bytes;

        public int Used { get; set; }

        public List<(string Key, int Index, int Offset, int Length, int Sequence)> Records { get; } = [];

        public MemoryEntry[]? Entries { get; set; }

        /// <summary>1 once a thread decodes it.</summary>
        public int Taken;
    }
}
