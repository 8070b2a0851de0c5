using Voxon.Storage.Worker;

namespace Voxon.Storage.File.Tests;

/// <summary>What only the file backend has: the journal beside the snapshot, and the snapshot's sections.</summary>
public sealed class FileJournalTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("voxon-journal-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Torn_last_journal_frame_is_ignored_and_cut_by_the_next_save()
    {
        var storage = new FileSessionStorage(_folder);
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_torn");
        await session.SaveAsync();
        for (var i = 0; i < 3; i++)
        {
            await session.AddMemoryAsync($"journal fact {i}");
            await session.SaveAsync();
        }

        var journal = Path.Combine(_folder, session.SessionId + ".journal");
        var intact = new FileInfo(journal).Length;
        var bytes = await System.IO.File.ReadAllBytesAsync(journal);
        await using (var stream = new FileStream(journal, FileMode.Append))
        {
            // A save cut short by a crash: a frame header promising more bytes than were written.
            await stream.WriteAsync(bytes.AsMemory(0, 40));
        }

        var loaded = (await storage.LoadAsync(session.SessionId))!;
        Assert.Equal(4, loaded.Version);
        Assert.Equal(3, loaded.Memory.Entries.Count);

        var reopened = await client.LoadSessionAsync(session.SessionId);
        await reopened.AddMemoryAsync("after the torn frame");
        await reopened.SaveAsync();
        Assert.True(new FileInfo(journal).Length > intact);
        var after = (await storage.LoadAsync(session.SessionId))!;
        Assert.Equal(5, after.Version);
        Assert.Contains("after the torn frame", after.Memory.Entries.Select(e => e.Content));
    }

    [Fact]
    public async Task Journal_is_compacted_into_a_new_snapshot_past_the_threshold()
    {
        var storage = new FileSessionStorage(_folder) { CompactionThreshold = 2_000 };
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_compact");
        await session.SaveAsync();
        var journal = Path.Combine(_folder, session.SessionId + ".journal");
        var compacted = false;
        for (var i = 0; i < 20; i++)
        {
            await session.AddMemoryAsync($"compaction fact {i} with a few more words to grow the journal");
            await session.SaveAsync();
            compacted |= !System.IO.File.Exists(journal);
        }

        Assert.True(compacted);
        var loaded = (await storage.LoadAsync(session.SessionId))!;
        Assert.Equal(21, loaded.Version);
        Assert.Equal(20, loaded.Memory.Entries.Count);
    }

    [Fact]
    public async Task Embeddings_are_stored_as_binary_float32_not_json_numbers()
    {
        var storage = new FileSessionStorage(_folder);
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_binary");
        await session.SaveAsync();
        await session.AddMemoryAsync("embedding format check");
        await session.SaveAsync();

        var journal = await System.IO.File.ReadAllTextAsync(Path.Combine(_folder, session.SessionId + ".journal"));
        Assert.DoesNotContain("\"embedding\":[", journal, StringComparison.Ordinal);
        Assert.DoesNotContain("\"embedding\"", journal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_full_load_puts_the_snapshots_embeddings_in_a_few_shared_blocks_and_reads_them_back_exactly(bool encrypted)
    {
        var storage = new FileSessionStorage(_folder, encrypted ? SessionEncryption.FromKey("block key") : null);
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_block");
        for (var i = 0; i < 120; i++)
        {
            await session.AddMemoryAsync($"block fact {i} about topic {i % 7} and detail {i % 5}");
        }

        await session.SaveAsync();
        await session.AddMemoryAsync("a fact in the journal");
        await session.SaveAsync();
        var saved = session.GetMemory().Entries.ToDictionary(e => e.Id, e => e.Embedding.ToArray());

        var loaded = (await storage.LoadAsync(session.SessionId))!.Memory.Entries;

        Assert.Equal(121, loaded.Count);
        Assert.All(loaded, e => Assert.Equal(saved[e.Id], e.Embedding.ToArray()));
        var arrays = loaded.Select(e => System.Runtime.InteropServices.MemoryMarshal.TryGetArray(e.Embedding, out var segment) ? segment : default).ToList();
        var snapshot = arrays.Where((_, i) => loaded[i].Content != "a fact in the journal").ToList();
        var blocks = snapshot.Select(s => s.Array!).Distinct().ToList();

        // Tens of vectors a block, each block small enough to stay off the large object heap, no vector in two.
        Assert.InRange(blocks.Count, 2, 4);
        Assert.All(blocks, b => Assert.True(b.Length * sizeof(float) < 85_000));
        Assert.Equal(120 * 384, blocks.Sum(b => b.Length));
        Assert.Equal(120, snapshot.Select(s => (s.Array, s.Offset)).Distinct().Count());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Lazy_load_reads_under_a_tenth_of_the_files_until_memory_is_used(bool encrypted)
    {
        var storage = new FileSessionStorage(_folder, encrypted ? SessionEncryption.FromKey("lazy key") : null);
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_lazy");
        for (var i = 0; i < 300; i++)
        {
            await session.AddMemoryAsync($"lazy fact {i} about topic {i % 17}");
        }

        for (var c = 0; c < 5; c++)
        {
            var conversation = await session.StartConversationAsync();
            await conversation.SendMessageAsync($"conversation {c}");
            await conversation.EndAsync();
        }

        await session.SaveAsync();
        await session.AddMemoryAsync("a fact in the journal");
        await session.SaveAsync();
        var size = new FileInfo(Path.Combine(_folder, session.SessionId + ".json")).Length + new FileInfo(JournalPath(session.SessionId)).Length;

        var before = storage.SessionBytesRead;
        var lazy = await client.LoadSessionAsync(session.SessionId, lazyLoad: true);
        var metadataBytes = storage.SessionBytesRead - before;
        Assert.False(lazy.IsContentLoaded);
        Assert.Equal(5, lazy.Conversations.Count);
        Assert.True(metadataBytes < size / 10, $"the lazy load read {metadataBytes} of {size} bytes");

        Assert.Equal(301, lazy.GetMemory().Entries.Count);
        Assert.True(lazy.IsContentLoaded);
        Assert.True(storage.SessionBytesRead - before >= size, "memory loads the whole snapshot");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Lazy_load_reads_the_journals_frame_headers_and_conversations_not_the_memories_turns_and_heads_saved_since_the_snapshot(bool encrypted)
    {
        // No compaction: most of the session is in the journal, as just before a compaction folds it into a snapshot.
        var storage = new FileSessionStorage(_folder, encrypted ? SessionEncryption.FromKey("journal lazy key") : null) { CompactionThreshold = 64 << 20 };
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_journal_lazy");
        await session.AddMemoryAsync("a fact in the snapshot");
        await session.SaveAsync();
        var conversation = await session.StartConversationAsync();
        for (var save = 0; save < 30; save++)
        {
            for (var i = 0; i < 10; i++)
            {
                await session.AddMemoryAsync($"journal fact {save}.{i} about topic {i % 7}");
            }

            await conversation.SendMessageAsync($"message {save}");
            await session.SaveAsync();
        }

        var journal = new FileInfo(JournalPath(session.SessionId)).Length;
        var size = new FileInfo(Path.Combine(_folder, session.SessionId + ".json")).Length + journal;
        Assert.True(journal > size * 0.9, $"the journal holds {journal} of {size} bytes");
        var full = (await storage.LoadAsync(session.SessionId))!;

        var before = storage.SessionBytesRead;
        var metadata = (await storage.LoadMetadataAsync(session.SessionId))!;
        var metadataBytes = storage.SessionBytesRead - before;
        Assert.True(metadataBytes < size / 10, $"the metadata load read {metadataBytes} of {size} bytes");
        Assert.Equal(full.Version, metadata.Version);
        Assert.Equal(full.Analytics.MessageCount, metadata.Analytics.MessageCount);
        Assert.Equal(full.Conversations.Select(c => c.ConversationId), metadata.Conversations.Select(c => c.ConversationId));

        var lazy = await client.LoadSessionAsync(session.SessionId, lazyLoad: true);
        Assert.False(lazy.IsContentLoaded);
        Assert.Equal(full.Memory.Entries.Select(e => e.Content), lazy.GetMemory().Entries.Select(e => e.Content));
        Assert.Equal(301, full.Memory.Entries.Count);
        Assert.Equal(full.Conversations.Single().Turns.Select(t => t.Content), lazy.GetTranscript(full.Conversations.Single().ConversationId).Select(t => t.Content));
    }

    [Theory]
    [InlineData(false, "conversations")]
    [InlineData(true, "conversations")]
    [InlineData(false, "head")]
    [InlineData(true, "head")]
    [InlineData(false, "content")]
    [InlineData(true, "content")]
    public async Task Damage_to_a_middle_journal_frame_is_reported_by_a_lazy_load_or_when_its_memory_is_first_used(bool encrypted, string section)
    {
        var (storage, client, sessionId) = await JournalOfFourFramesAsync(encrypted);
        await using var _ = client;
        // Frame 1 saved a conversation header, a head, a memory and a turn.
        var (_, starts) = await FlipJournalByteAsync(sessionId, (journal, frames) => SectionStart(journal, (int)frames[1], section) + 5, 0x20);

        var full = await Assert.ThrowsAsync<SessionCorruptException>(() => storage.LoadAsync(sessionId));
        Assert.Contains($"byte {starts[1]}", full.Message, StringComparison.Ordinal);
        Assert.Contains(section == "conversations" ? "fails its checksum" : $"fails its {section} checksum", full.Message, StringComparison.Ordinal);
        if (section == "conversations")
        {
            await Assert.ThrowsAsync<SessionCorruptException>(() => storage.LoadMetadataAsync(sessionId));
            return;
        }

        // A lazy load reads the frame's headers and conversations, which are intact, and the last frame's head; the
        // damage shows when memory is first used, never older data.
        Assert.Equal(5, (await storage.LoadMetadataAsync(sessionId))!.Version);
        var lazy = await client.LoadSessionAsync(sessionId, lazyLoad: true);
        Assert.Equal("warm", lazy.ExportPreferenceProfile().Overrides["tone"]);
        await lazy.StartConversationAsync(); // reads the content in the background, which fails there unseen
        var later = Assert.Throws<SessionCorruptException>(() => lazy.GetMemory());
        Assert.Equal(sessionId, later.SessionId);
    }

    [Fact]
    public async Task A_middle_frame_whose_checksum_kind_flipped_is_corruption_on_full_and_lazy_loads()
    {
        var (storage, client, sessionId) = await JournalOfFourFramesAsync(encrypted: false);
        await using var _ = client;
        // The top bit of the version word says the checksums are XxHash3: cleared, they are checked as SHA-256 prefixes.
        var (_, starts) = await FlipJournalByteAsync(sessionId, (_, frames) => (int)frames[1] + 15, 0x80);

        var full = await Assert.ThrowsAsync<SessionCorruptException>(() => storage.LoadAsync(sessionId));
        Assert.Contains($"byte {starts[1]}", full.Message, StringComparison.Ordinal);
        Assert.Contains("fails its checksum", full.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SessionCorruptException>(() => storage.LoadMetadataAsync(sessionId));
    }

    /// <summary>Where a section of the frame with sections at <paramref name="frame"/> starts (see <see cref="FileJournal"/>).</summary>
    private static int SectionStart(byte[] journal, int frame, string section)
    {
        var conversations = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(journal.AsSpan(frame + 16));
        var head = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(journal.AsSpan(frame + 20));
        return frame + 32 + section switch { "conversations" => 0, "head" => conversations, _ => conversations + head };
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_last_frame_whose_content_a_crash_left_unwritten_is_ignored_by_lazy_and_full_loads_alike(bool encrypted)
    {
        var (storage, client, sessionId) = await JournalOfFourFramesAsync(encrypted);
        await using var _ = client;
        var session = await client.LoadSessionAsync(sessionId);
        var state = Path.Combine(_folder, sessionId + ".lock");
        var acknowledged = await System.IO.File.ReadAllBytesAsync(state);
        await session.AddMemoryAsync("a fact whose save was cut short");
        await session.SaveAsync();

        // A crash after the frame's headers, conversations and head reached the disk, before its content did and before the
        // save was acknowledged: the file system extended the journal with zeros.
        var journal = JournalPath(sessionId);
        var bytes = await System.IO.File.ReadAllBytesAsync(journal);
        var last = (int)Conformance.JournalDamage.FrameStarts(bytes)[^1];
        var contentStart = SectionStart(bytes, last, "content");
        Array.Clear(bytes, contentStart, bytes.Length - contentStart);
        await System.IO.File.WriteAllBytesAsync(journal, bytes);
        await System.IO.File.WriteAllBytesAsync(state, acknowledged);

        Assert.Equal(5, (await storage.LoadAsync(sessionId))!.Version);
        Assert.Equal(5, (await storage.LoadMetadataAsync(sessionId))!.Version);
        var lazy = await client.LoadSessionAsync(sessionId, lazyLoad: true);
        Assert.DoesNotContain("a fact whose save was cut short", lazy.GetMemory().Entries.Select(e => e.Content));
        await lazy.AddMemoryAsync("the save after the crash");
        await lazy.SaveAsync();
        Assert.Equal(6, (await storage.LoadAsync(sessionId))!.Version);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_journal_of_frames_of_every_format_loads_lazy_and_full_and_is_migrated(bool encrypted)
    {
        var storage = new FileSessionStorage(_folder, encrypted ? SessionEncryption.FromKey("mixed frames key") : null);
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_mixed_frames");
        await session.SaveAsync();
        var conversation = await session.StartConversationAsync();
        FileJournal.OlderFormat?[] formats = [FileJournal.OlderFormat.Records, FileJournal.OlderFormat.Records, FileJournal.OlderFormat.Sha256Sections, FileJournal.OlderFormat.Sha256Sections, null, null];
        for (var i = 0; i < formats.Length; i++)
        {
            FileJournal.WriteOlderFormat.Value = formats[i];
            await session.AddMemoryAsync($"mixed fact {i}");
            await conversation.SendMessageAsync($"mixed message {i}");
            await session.SaveAsync();
        }

        FileJournal.WriteOlderFormat.Value = null;
        var bytes = await System.IO.File.ReadAllBytesAsync(JournalPath(session.SessionId));
        // Sections: the top bit of the first uint32; XxHash3 checksums: the top bit of the version word.
        var written = Conformance.JournalDamage.FrameStarts(bytes).Select(s => ((bytes[(int)s + 3] & 0x80) != 0, (bytes[(int)s + 15] & 0x80) != 0)).ToList();
        Assert.Equal([(false, false), (false, false), (true, false), (true, false), (true, true), (true, true)], written);
        string[] facts = [.. Enumerable.Range(0, formats.Length).Select(i => $"mixed fact {i}")];

        var full = (await storage.LoadAsync(session.SessionId))!;
        Assert.Equal(7, full.Version);
        Assert.Equal(facts, full.Memory.Entries.Select(e => e.Content));
        Assert.Equal(7, (await storage.LoadMetadataAsync(session.SessionId))!.Version);
        var lazy = await client.LoadSessionAsync(session.SessionId, lazyLoad: true);
        Assert.Equal(facts, lazy.GetMemory().Entries.Select(e => e.Content));
        Assert.Equal(formats.Length, lazy.GetTranscript(lazy.Conversations.Single().ConversationId).Count(t => t.Content.StartsWith("mixed message", StringComparison.Ordinal)));

        var rewritten = await storage.RewriteAllAsync();
        Assert.Equal(1, rewritten.Sessions);
        Assert.False(System.IO.File.Exists(JournalPath(session.SessionId)));
        Assert.Equal(Json(full, ignoreVersion: true), Json((await storage.LoadAsync(session.SessionId))!, ignoreVersion: true));
    }

    [Fact]
    public async Task A_damaged_data_key_id_in_a_sealed_snapshot_is_corruption_not_a_key_ring_error()
    {
        var storage = new FileSessionStorage(_folder, SessionEncryption.FromKey("key id test key"));
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_keyid");
        await session.AddMemoryAsync("a sealed fact");
        await session.SaveAsync();
        var path = Path.Combine(_folder, session.SessionId + ".json");
        var bytes = await System.IO.File.ReadAllBytesAsync(path);
        var keyId = System.Text.RegularExpressions.Regex.Match(System.Text.Encoding.Latin1.GetString(bytes), "u[0-9a-f]{16}");
        Assert.True(keyId.Success, "the sealed snapshot names the user's data key");
        bytes[keyId.Index + 5] = (byte)'?'; // a name the key ring could not even hold
        await System.IO.File.WriteAllBytesAsync(path, bytes);

        var error = await Assert.ThrowsAsync<SessionCorruptException>(() => storage.LoadAsync(session.SessionId));
        Assert.Equal(session.SessionId, error.SessionId);
    }

    [Theory]
    [InlineData("cut inside the content section")]
    [InlineData("a byte of the content section flipped")]
    [InlineData("a record length in the content section changed")]
    [InlineData("a byte of the meta section flipped")]
    [InlineData("the header's version changed")]
    [InlineData("a section length changed")]
    [InlineData("cut inside the header")]
    public async Task Damaged_snapshot_is_corruption_on_full_and_lazy_load(string damage)
    {
        var storage = new FileSessionStorage(_folder);
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_damage");
        for (var i = 0; i < 200; i++)
        {
            await session.AddMemoryAsync($"fact {i} worth keeping");
        }

        await (await session.StartConversationAsync()).SendMessageAsync("hello");
        await session.SaveAsync();
        var path = Path.Combine(_folder, session.SessionId + ".json");
        var bytes = await System.IO.File.ReadAllBytesAsync(path);
        Assert.True(FileSnapshot.IsBinary(bytes));
        var header = FileSnapshot.ReadHeader(bytes, bytes.Length);
        Assert.True(header.ContentLength >= FileSessionStorage.ConcurrentHashThreshold, "the content section is hashed while it is decoded");
        bytes = damage switch
        {
            "cut inside the content section" => bytes[..^10],
            "a byte of the content section flipped" => Flip(bytes, header.ContentOffset + 20),
            "a record length in the content section changed" => Flip(bytes, header.ContentOffset + 1),
            "a byte of the meta section flipped" => Flip(bytes, FileSnapshot.HeaderSize + 20),
            "the header's version changed" => Flip(bytes, 8),
            "a section length changed" => Flip(bytes, 16),
            _ => bytes[..20],
        };
        await System.IO.File.WriteAllBytesAsync(path, bytes);

        var full = await Assert.ThrowsAsync<SessionCorruptException>(() => storage.LoadAsync(session.SessionId));
        Assert.Equal(session.SessionId, full.SessionId);
        Assert.Contains("snapshot", full.Message, StringComparison.Ordinal);
        if (damage.Contains("in the content section", StringComparison.Ordinal) || damage.Contains("of the content section", StringComparison.Ordinal))
        {
            // The section is hashed while it is decoded: the checksum is reported, not whatever the damaged bytes decode to.
            Assert.Contains("content section fails its checksum", full.Message, StringComparison.Ordinal);
        }

        if (damage is not ("cut inside the content section" or "a byte of the content section flipped" or "a record length in the content section changed"))
        {
            // The content section is not read by a lazy load: its damage shows when memory is used.
            await Assert.ThrowsAsync<SessionCorruptException>(() => storage.LoadMetadataAsync(session.SessionId));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Legacy_json_snapshot_loads_takes_binary_journal_frames_and_is_migrated_in_place(bool encrypted)
    {
        var encryption = encrypted ? SessionEncryption.FromKey(new string('7', 64)) : null;
        var storage = new FileSessionStorage(_folder, encryption);
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_legacy");
        await session.AddMemoryAsync("a fact from before the binary format");
        await (await session.StartConversationAsync()).SendMessageAsync("an old turn");
        await session.SaveAsync();

        // What earlier versions wrote: one JSON document (sealed whole when encrypted), memory records as JSON.
        var path = Path.Combine(_folder, session.SessionId + ".json");
        var document = (await storage.LoadAsync(session.SessionId))!;
        var legacyJson = SessionDocumentSerializer.Serialize(document);
        await System.IO.File.WriteAllBytesAsync(path, encryption is null ? legacyJson : await SealLegacyAsync(encryption, legacyJson, session.SessionId));
        var expected = Json(document);

        // Mixed: the legacy snapshot, then journal frames of binary memory records.
        var reopened = await client.LoadSessionAsync(session.SessionId);
        Assert.Equal(expected, Json((await storage.LoadAsync(session.SessionId))!));
        await reopened.AddMemoryAsync("a fact from after it");
        await reopened.SaveAsync();

        // Plain, the save appends a frame to the journal; encrypted, a snapshot sealed before the key ring is rewritten whole.
        Assert.Equal(encrypted, FileSnapshot.IsBinary(await System.IO.File.ReadAllBytesAsync(path)));
        var mixed = (await storage.LoadAsync(session.SessionId))!;
        Assert.Equal(["a fact from before the binary format", "a fact from after it"], mixed.Memory.Entries.Select(e => e.Content));
        Assert.Single((await storage.LoadMetadataAsync(session.SessionId))!.Conversations);

        // In place: the store rewritten, every session in the binary format with the same content.
        var rewritten = await storage.RewriteAllAsync();
        Assert.Equal(1, rewritten.Sessions);
        Assert.True(FileSnapshot.IsBinary(await System.IO.File.ReadAllBytesAsync(path)));
        var migrated = (await storage.LoadAsync(session.SessionId))!;
        Assert.Equal(mixed.Version + 1, migrated.Version);
        Assert.Equal(Json(mixed, ignoreVersion: true), Json(migrated, ignoreVersion: true));
        Assert.All(mixed.Memory.Entries.Zip(migrated.Memory.Entries), pair => Assert.True(pair.First.Embedding.Span.SequenceEqual(pair.Second.Embedding.Span)));
    }

    private static async Task<byte[]> SealLegacyAsync(SessionEncryption encryption, byte[] json, string sessionId)
    {
        // Legacy snapshots were sealed whole under the context "ID/snapshot" (here with the master key, as before key rings).
        var codec = new SessionRecordCodec("file", encryption);
        var key = await codec.KeyForAsync(null, "test");
        return codec.Seal(json, sessionId + "/snapshot", key);
    }

    private static string Json(SessionDocument document, bool ignoreVersion = false)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(SessionDocumentSerializer.Serialize(document))!.AsObject();
        if (ignoreVersion)
        {
            node.Remove("version");
            node.Remove("owner_version");
            node.Remove("updated_at");
        }

        return node.ToJsonString();
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        bytes[at] ^= 0x20;
        return bytes;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Damaged_middle_frame_is_corruption_naming_the_session_and_offset(bool encrypted)
    {
        var (storage, client, sessionId) = await JournalOfFourFramesAsync(encrypted);
        await using var _ = client;
        var (_, starts) = await FlipJournalByteAsync(sessionId, (_, frames) => (int)frames[1] + 40, 0x20);

        var error = await Assert.ThrowsAsync<SessionCorruptException>(() => storage.LoadAsync(sessionId));
        Assert.Equal(sessionId, error.SessionId);
        Assert.Contains($"byte {starts[1]}", error.Message, StringComparison.Ordinal);
        Assert.Contains("sessions repair", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SessionCorruptException>(() => client.LoadSessionAsync(sessionId));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(-7)]
    public async Task Journal_cut_before_the_acknowledged_version_is_corruption_on_load_and_save(int cut)
    {
        var (storage, client, sessionId) = await JournalOfFourFramesAsync(encrypted: false);
        await using var _ = client;
        var session = await client.LoadSessionAsync(sessionId);
        var journal = JournalPath(sessionId);
        var bytes = await System.IO.File.ReadAllBytesAsync(journal);
        var starts = Conformance.JournalDamage.FrameStarts(bytes);

        // At the start of the last frame (whole saves missing), or inside it or the one before.
        var length = (int)starts[^1] + (cut == 0 ? 0 : cut < -1 ? cut : 30);
        await System.IO.File.WriteAllBytesAsync(journal, bytes[..length]);

        var error = await Assert.ThrowsAsync<SessionCorruptException>(() => storage.LoadAsync(sessionId));
        Assert.Contains("version 5 was stored", error.Message, StringComparison.Ordinal);
        await session.AddMemoryAsync("a save after the damage");
        await Assert.ThrowsAsync<SessionCorruptException>(() => session.SaveAsync());
        Assert.Equal(length, new FileInfo(journal).Length);
    }

    [Fact]
    public async Task Repair_restores_the_last_consistent_version_and_keeps_the_damaged_journal()
    {
        var (storage, client, sessionId) = await JournalOfFourFramesAsync(encrypted: true);
        await using var _ = client;
        var (bytes, _) = await FlipJournalByteAsync(sessionId, (_, frames) => (int)frames[2] + 30, 0x01);

        var repair = await client.RepairSessionAsync(sessionId);
        Assert.True(repair.Repaired);
        Assert.Equal(3, repair.Version);
        Assert.Equal(5, repair.AcknowledgedVersion);
        Assert.Equal(bytes, await System.IO.File.ReadAllBytesAsync(repair.DamagedCopy!));

        var restored = await client.LoadSessionAsync(sessionId);
        Assert.Equal(3, restored.Version);
        Assert.Equal(["journal fact 0", "journal fact 1"], restored.GetMemory().Entries.Select(e => e.Content));
        await restored.AddMemoryAsync("after the repair");
        await restored.SaveAsync();
        Assert.Equal(4, (await storage.LoadAsync(sessionId))!.Version);
        Assert.False((await client.RepairSessionAsync(sessionId)).Repaired);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Random_damage_to_the_journal_loads_the_saved_version_or_reports_corruption(bool encrypted)
    {
        var seed = Random.Shared.Next(int.MaxValue / 2);
        var detected = 0;
        for (var run = 0; run < 150; run++)
        {
            var (storage, client, sessionId) = await JournalOfFourFramesAsync(encrypted);
            await using var _ = client;
            var saved = (await storage.LoadAsync(sessionId))!;
            var expected = SessionDocumentSerializer.Serialize(saved);
            var facts = saved.Memory.Entries.Select(e => e.Content).ToList();
            var damage = await Conformance.JournalDamage.ApplyAsync(JournalPath(sessionId), new Random(seed + run));
            try
            {
                var loaded = await storage.LoadAsync(sessionId);
                Assert.True(loaded is not null && SessionDocumentSerializer.Serialize(loaded).AsSpan().SequenceEqual(expected),
                    $"run {run} (seed {seed + run}): after {damage} the load returned {(loaded is null ? "nothing" : $"version {loaded.Version}")} without an error");
            }
            catch (SessionCorruptException ex)
            {
                Assert.Equal(sessionId, ex.SessionId);
                detected++;
            }

            // A lazy load reads less of the journal: it may report the damage only when memory is used, but it never
            // shows anything other than what was saved.
            try
            {
                var lazy = await client.LoadSessionAsync(sessionId, lazyLoad: true);
                Assert.Equal(5, lazy.Version);
                Assert.True(lazy.GetMemory().Entries.Select(e => e.Content).SequenceEqual(facts),
                    $"run {run} (seed {seed + run}): after {damage} a lazy load used memory without an error");
            }
            catch (SessionCorruptException ex)
            {
                Assert.Equal(sessionId, ex.SessionId);
            }
        }

        Assert.True(detected > 100, $"only {detected} of 150 damaged journals were reported");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_folder_entry_a_save_makes_is_flushed_to_disk_before_the_save_is_acknowledged(bool encrypted)
    {
        // A save acknowledged after renaming its snapshot into place could otherwise come back after a power loss as the
        // older snapshot. The storage worker saves a new session (its folder, key ring and snapshot made), then twice
        // more (its journal made, then appended to), printing "ACK n" after each.
        var folder = Path.Combine(_folder, "sessions");
        var run = await Voxon.Tests.TestSupport.DurabilityTrace.RunAsync(
            _folder,
            [Path.Combine(AppContext.BaseDirectory, "Voxon.Storage.Worker.dll"), "file", folder, "-", "create", "user_durable", "2"],
            "\"ACK ",
            encrypted ? new Dictionary<string, string> { ["VOXON_WORKER_KEY"] = "durable test key" } : null);

        Assert.Equal(["ACK 1", "ACK 2", "ACK 3"], run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(3, run.Acknowledgements);
        Assert.Empty(run.Unflushed);
        // Not vacuous: the storage folder's parent (the folder was made), the storage folder (snapshot, journal) and,
        // encrypted, the key ring were flushed.
        Assert.Contains(_folder, run.Flushed);
        Assert.True(run.Flushed.Count(f => f == folder) >= 2, string.Join(", ", run.Flushed));
        Assert.Equal(encrypted, run.Flushed.Contains(Path.Combine(folder, "keyring")));
    }

    /// <summary>A session saved five times: a snapshot (version 1) and journal frames for versions 2 to 5.</summary>
    private async Task<(FileSessionStorage Storage, VoxonClient Client, string SessionId)> JournalOfFourFramesAsync(bool encrypted)
    {
        var storage = new FileSessionStorage(_folder, encrypted ? SessionEncryption.FromKey("journal test key") : null);
        var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_journal");
        await session.SaveAsync();
        var conversation = await session.StartConversationAsync();
        for (var i = 0; i < 3; i++)
        {
            await session.AddMemoryAsync($"journal fact {i}");
            await conversation.SendMessageAsync($"journal message {i}");
            await session.SaveAsync();
        }

        session.SetPreference("tone", "warm");
        await session.SaveAsync();
        return (storage, client, session.SessionId);
    }

    private string JournalPath(string sessionId) => Path.Combine(_folder, sessionId + ".journal");

    /// <summary>Flips <paramref name="mask"/> in the journal byte that <paramref name="at"/> picks from its bytes and frame
    /// starts; returns the damaged journal and its frame starts.</summary>
    private async Task<(byte[] Damaged, List<long> Starts)> FlipJournalByteAsync(string sessionId, Func<byte[], List<long>, int> at, byte mask)
    {
        var journal = JournalPath(sessionId);
        var bytes = await System.IO.File.ReadAllBytesAsync(journal);
        var starts = Conformance.JournalDamage.FrameStarts(bytes);
        bytes[at(bytes, starts)] ^= mask;
        await System.IO.File.WriteAllBytesAsync(journal, bytes);
        return (bytes, starts);
    }
}
