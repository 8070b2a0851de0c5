using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Voxon.Memory;

namespace Voxon.Storage;

/// <summary>The kinds of record a session is stored as by incremental backends.</summary>
internal enum RecordKind : byte
{
    Head = 1,
    Memory = 2,
    MemoryRemoved = 3,
    Conversation = 4,
    Turn = 5,
}

/// <summary>One stored piece of a session: the head, a memory entry (or its removal), a conversation header, or a turn.
/// <paramref name="Key"/> is the memory or conversation id, <paramref name="Index"/> the turn index or conversation ordinal.</summary>
internal readonly record struct SessionRecord(RecordKind Kind, string Key, int Index, byte[] Payload)
{
    /// <summary>The record's identity, authenticated by encryption so records cannot be swapped.</summary>
    public string Context(string sessionId) => $"{sessionId}/{(int)Kind}/{Key}/{Index}";

    /// <summary>Writes <see cref="Context"/> of a record given by its parts as UTF-8, without making the string;
    /// false when <paramref name="destination"/> is too small.</summary>
    public static bool TryWriteContext(Span<byte> destination, string sessionId, RecordKind kind, string key, int index, out int written) =>
        System.Text.Unicode.Utf8.TryWrite(destination, CultureInfo.InvariantCulture, $"{sessionId}/{(int)kind}/{key}/{index}", out written);
}

/// <summary>
/// Splits sessions into <see cref="SessionRecord"/>s and back, shared by every incremental backend. Memory records
/// are binary (<see cref="MemoryRecordFormat"/>), so are conversation headers and turns (<see cref="TranscriptRecordFormat"/>);
/// heads are JSON.
/// </summary>
internal static class SessionRecords
{
    /// <summary>The records of a change set (memory removals included).</summary>
    public static List<SessionRecord> Encode(SessionChangeSet changes)
    {
        var records = new List<SessionRecord>(1 + changes.UpsertedMemories.Count + changes.RemovedMemoryIds.Count + (changes.Conversations.Count * 3))
        {
            HeadRecord(changes.Head),
        };
        records.AddRange(changes.UpsertedMemories.Select(MemoryRecord));
        records.AddRange(changes.RemovedMemoryIds.Select(id => new SessionRecord(RecordKind.MemoryRemoved, id, 0, [])));
        foreach (var change in changes.Conversations)
        {
            AddConversation(records, change.Conversation, change.Ordinal, change.FirstNewTurn);
        }

        return records;
    }

    /// <summary>All records of a whole document; its head counts them (<see cref="RecordCounts"/>).</summary>
    public static List<SessionRecord> Encode(SessionDocument document)
    {
        var head = document.WithoutContent();
        head.Records = RecordCounts.Of(document);
        var records = new List<SessionRecord> { HeadRecord(head) };
        records.AddRange(document.Memory.Entries.Select(MemoryRecord));
        for (var i = 0; i < document.Conversations.Count; i++)
        {
            AddConversation(records, document.Conversations[i], i, 0);
        }

        return records;
    }

    public static SessionSummary Summarize(SessionDocument d) =>
        new(d.SessionId, d.UserId, d.CreatedAt, d.UpdatedAt, d.Analytics.ConversationCount, d.Analytics.MessageCount);

    private static SessionRecord HeadRecord(SessionDocument d) =>
        new(RecordKind.Head, string.Empty, 0, SessionDocumentSerializer.Serialize(d.Memory.Entries.Count == 0 && d.Conversations.Count == 0 ? d : d.WithoutContent()));

    private static void AddConversation(List<SessionRecord> records, ConversationDocument conversation, int ordinal, int firstTurn)
    {
        var legacy = WriteLegacyTranscripts.Value;
        records.Add(new SessionRecord(RecordKind.Conversation, conversation.ConversationId, ordinal, legacy
            ? JsonSerializer.SerializeToUtf8Bytes(conversation.WithoutTurns(), VoxonJsonContext.Default.ConversationDocument)
            : TranscriptRecordFormat.EncodeHeader(conversation)));
        for (var i = 0; i < conversation.Turns.Count; i++)
        {
            records.Add(new SessionRecord(RecordKind.Turn, conversation.ConversationId, firstTurn + i, legacy
                ? JsonSerializer.SerializeToUtf8Bytes(conversation.Turns[i], VoxonJsonContext.Default.ConversationTurn)
                : TranscriptRecordFormat.Encode(conversation.Turns[i])));
        }
    }

    /// <summary>Test hook: conversation headers and turns written in this flow are JSON, as before
    /// <see cref="TranscriptRecordFormat"/>, to test stores written by older versions.</summary>
    internal static readonly AsyncLocal<bool> WriteLegacyTranscripts = new();

    private static SessionRecord MemoryRecord(MemoryEntry entry) => new(RecordKind.Memory, entry.Id, 0, MemoryRecordFormat.Encode(entry));
}

/// <summary>
/// How one backend turns records into stored bytes: plain, or sealed with <see cref="SessionEncryption"/> (with a
/// <see cref="Storage.KeyRing"/>: a user's records under the user's data key, other records under the master key).
/// Also reports records read with an old key, so the backend rewrites that session whole on its next save.
/// </summary>
/// <remarks>Sealing and opening are synchronous: call <see cref="KeyForAsync"/> before sealing and
/// <see cref="PrepareAsync"/> before opening, which fetch the keys from the ring.</remarks>
internal sealed class SessionRecordCodec(string backend, SessionEncryption? encryption, KeyRingStore? keyRingStore = null)
{
    private readonly HashSet<string> _rewrite = new(StringComparer.Ordinal);

    public string Backend { get; } = backend;

    public SessionEncryption? Encryption { get; } = encryption;

    /// <summary>Where the backend keeps its key ring and erasure records (present with or without encryption).</summary>
    public KeyRingStore? ControlStore { get; } = keyRingStore;

    /// <summary>The key ring, when encryption is on and the backend has a place for it.</summary>
    public KeyRing? KeyRing { get; } = encryption is null || keyRingStore is null || encryption.WithoutKeyRing ? null : new KeyRing(encryption, keyRingStore, backend);

    /// <summary>The key to seal <paramref name="userId"/>'s records with (created on first use), or the master key for
    /// records of no user; null without encryption.</summary>
    /// <exception cref="VoxonStorageException">The key ring cannot be read or its master key is not configured.</exception>
    public async ValueTask<SealingKey?> KeyForAsync(string? userId, string operation, CancellationToken cancellationToken = default)
    {
        if (Encryption is null)
        {
            return null;
        }

        try
        {
            if (KeyRing is null || userId is null)
            {
                var master = KeyRing is null ? Encryption : await KeyRing.MasterAsync(cancellationToken);
                return new SealingKey(master.KeyId, master.CurrentKey);
            }

            var (id, key) = await KeyRing.UserKeyAsync(userId, cancellationToken);
            return new SealingKey(id, key);
        }
        catch (CryptographicException ex)
        {
            throw new VoxonStorageException(Backend, operation, null, ex.Message, false, ex);
        }
    }

    public byte[] Seal(byte[] plaintext, string context, SealingKey? key) => key is null ? plaintext : SessionEncryption.Seal(key.Id, key.Key, plaintext, context);

    public SessionRecord Seal(SessionRecord record, string sessionId, SealingKey? key) => record with { Payload = Seal(record.Payload, record.Context(sessionId), key) };

    /// <summary>Fetches from the key ring the data keys that sealed <paramref name="stored"/>.</summary>
    /// <exception cref="SessionCorruptException">A data key cannot be unwrapped (its master key is not configured, or the ring was tampered with).</exception>
    public ValueTask PrepareAsync(IEnumerable<byte[]> stored, string recordId, CancellationToken cancellationToken = default)
    {
        if (KeyRing is null)
        {
            return ValueTask.CompletedTask;
        }

        // A session's records share a key or two: a key id becomes a string only where it differs from the last one.
        var keyIds = new List<string?>();
        byte[]? previous = null;
        foreach (var record in stored)
        {
            if (previous is null || !SessionEncryption.KeyIdBytes(record).SequenceEqual(SessionEncryption.KeyIdBytes(previous)))
            {
                keyIds.Add(SessionEncryption.KeyIdOf(record));
                previous = record;
            }
        }

        return PrepareKeysAsync(keyIds, recordId, cancellationToken);
    }

    /// <summary>Fetches from the key ring the data keys named by <paramref name="keyIds"/> (the key ids of sealed records).</summary>
    /// <exception cref="SessionCorruptException">A data key cannot be unwrapped.</exception>
    public async ValueTask PrepareKeysAsync(IEnumerable<string?> keyIds, string recordId, CancellationToken cancellationToken = default)
    {
        if (KeyRing is null)
        {
            return;
        }

        try
        {
            await KeyRing.MasterAsync(cancellationToken);
            foreach (var id in keyIds.OfType<string>().Where(id => KeyRing.IsDataKeyId(id)).Distinct(StringComparer.Ordinal))
            {
                await KeyRing.DataKeyAsync(id, cancellationToken);
            }
        }
        catch (CryptographicException ex)
        {
            throw new SessionCorruptException(Backend, recordId, "decryption failed: " + ex.Message, ex);
        }
    }

    /// <summary>Opens stored bytes; sets <paramref name="oldKey"/> when they should be sealed again (an older master key,
    /// or a master key where a user's data key belongs).</summary>
    /// <exception cref="SessionCorruptException">Tampered, the wrong key, a destroyed data key, or encrypted with no key configured.</exception>
    public byte[] Open(byte[] stored, string context, string sessionId, ref bool oldKey) =>
        Open(stored, context, ref oldKey, (problem, ex) => new SessionCorruptException(Backend, sessionId, problem, ex));

    /// <summary>Opens a stored record (its context is only built when it is sealed).</summary>
    public byte[] Open(SessionRecord record, string sessionId, ref bool oldKey) =>
        Encryption is null && !SessionEncryption.IsEnvelope(record.Payload) ? record.Payload : Open(record.Payload, record.Context(sessionId), sessionId, ref oldKey);

    /// <summary>Opens stored bytes, reporting a problem with the exception <paramref name="corrupt"/> makes.</summary>
    public byte[] Open(byte[] stored, string context, ref bool oldKey, Func<string, Exception?, SessionCorruptException> corrupt) =>
        Decrypt(stored, context, ref oldKey, corrupt) ?? stored;

    /// <summary>Opens a slice of stored bytes; plaintext is returned as it is, without a copy.</summary>
    public ReadOnlyMemory<byte> OpenSlice(ReadOnlyMemory<byte> stored, string context, string sessionId, ref bool oldKey) =>
        Decrypt(stored.Span, context, ref oldKey, (problem, ex) => new SessionCorruptException(Backend, sessionId, problem, ex)) is { } plaintext ? plaintext : stored;

    /// <summary>Opens a slice of stored bytes and hands the plaintext to <paramref name="use"/>, which must not keep it:
    /// bytes sealed with a user's data key are decrypted into a pooled buffer (cleared afterwards) rather than an array
    /// of their own, which for a snapshot's content section (most of a session: 17 MB at 10,000 memories) was a fresh
    /// large object to zero on every load; other bytes as <see cref="OpenSlice"/>. When <paramref name="keep"/>, sealed
    /// bytes are opened into an array of the caller's own, which <paramref name="use"/> may keep (a large content
    /// section, whose vectors the entries keep: <see cref="StoredVectors"/>): uninitialized, as decryption fills it.</summary>
    /// <exception cref="SessionCorruptException">Tampered, the wrong key, a destroyed data key, or encrypted with no key configured.</exception>
    public void OpenPooled(ReadOnlyMemory<byte> stored, string context, string sessionId, ref bool oldKey, Action<ReadOnlyMemory<byte>> use, bool keep = false)
    {
        if (Encryption is null || KeyRing is null || SessionEncryption.KeyIdOf(stored.Span) is not { } id || !KeyRing.IsDataKeyId(id))
        {
            // Sealed bytes open into a new array (Decrypt); plaintext is handed over as it is, which keep does not change.
            use(OpenSlice(stored, context, sessionId, ref oldKey));
            return;
        }

        var buffer = Array.Empty<byte>();
        var length = 0;
        try
        {
            length = SessionEncryption.PlaintextLength(stored.Span, id.Length);
            buffer = keep ? GC.AllocateUninitializedArray<byte>(length) : ArrayPool<byte>.Shared.Rent(length);
            DataKey(id).Open(stored.Span, id, Encoding.UTF8.GetBytes(context), buffer.AsSpan(0, length));
            use(buffer.AsMemory(0, length));
        }
        catch (CryptographicException ex)
        {
            throw new SessionCorruptException(Backend, sessionId, "decryption failed: " + ex.Message, ex);
        }
        finally
        {
            // Plaintext does not stay behind in a shared pool.
            if (!keep && buffer.Length > 0)
            {
                buffer.AsSpan(0, length).Clear();
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>The plaintext of sealed bytes; null when encryption is off (the bytes are the plaintext).</summary>
    internal byte[]? Decrypt(ReadOnlySpan<byte> stored, string context, ref bool oldKey, Func<string, Exception?, SessionCorruptException> corrupt)
    {
        if (Encryption is null)
        {
            return SessionEncryption.IsEnvelope(stored)
                ? throw corrupt($"the record is encrypted with key '{SessionEncryption.KeyIdOf(stored)}' but no session_encryption_key is configured", null)
                : null;
        }

        try
        {
            if (KeyRing is not null && SessionEncryption.KeyIdOf(stored) is { } id && KeyRing.IsDataKeyId(id))
            {
                var opened = new byte[SessionEncryption.PlaintextLength(stored, id.Length)];
                DataKey(id).Open(stored, id, Encoding.UTF8.GetBytes(context), opened);
                return opened;
            }

            var plaintext = (KeyRing?.BoundMaster ?? Encryption).Unprotect(stored, context, out var old);
            oldKey |= old || KeyRing is not null;
            return plaintext;
        }
        catch (CryptographicException ex)
        {
            throw corrupt("decryption failed: " + ex.Message, ex);
        }
    }

    /// <summary>The data key <paramref name="keyId"/> as <see cref="PrepareKeysAsync"/> fetched it.</summary>
    /// <exception cref="CryptographicException">It is not in the key ring any more (its user was erased).</exception>
    internal GcmCiphers DataKey(ReadOnlySpan<char> keyId) =>
        KeyRing!.FetchedDataKey(keyId)
        ?? throw new CryptographicException($"the record was sealed with data key '{keyId}', which is no longer in the key ring: its user's data was erased");

    /// <summary>Remembers that <paramref name="sessionId"/> was read with an old key when <paramref name="oldKey"/>.</summary>
    public void NoteKey(string sessionId, bool oldKey)
    {
        if (oldKey)
        {
            lock (_rewrite)
            {
                _rewrite.Add(sessionId);
            }
        }
    }

    /// <summary>Whether the next save of <paramref name="sessionId"/> must rewrite it whole (read with an old key); clears the mark.</summary>
    public bool TakeRewrite(string sessionId)
    {
        lock (_rewrite)
        {
            return _rewrite.Remove(sessionId);
        }
    }

    /// <summary>Opens stored records and assembles the session; null when there is no head record.</summary>
    public async Task<SessionDocument?> AssembleAsync(string sessionId, List<SessionRecord> stored, bool withContent = true, CancellationToken cancellationToken = default)
    {
        await PrepareAsync(stored.Select(r => r.Payload), sessionId, cancellationToken);
        await using var load = new RecordLoad(this, sessionId, withContent);
        var (memories, others) = (new List<SessionRecord>(), new List<SessionRecord>());
        foreach (var record in stored)
        {
            // Rows of distinct memories, decoded together; the others opened meanwhile (at 1,000 memories with
            // encryption, 0.7 ms of a load's 3.5 ms of opening and decoding).
            (record.Kind == RecordKind.Memory && withContent ? memories : others).Add(record);
        }

        load.AddMemories(memories, others);
        return await load.BuildAsync();
    }
}

/// <summary>A key to seal records with and the id written into their envelopes.</summary>
internal sealed record SealingKey(string Id, byte[] Key);
