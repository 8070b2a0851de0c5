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
        var journal = JournalPath(sessionId);
        var bytes = await System.IO.File.ReadAllBytesAsync(journal);
        var starts = Conformance.JournalDamage.FrameStarts(bytes);
        bytes[(int)starts[1] + 40] ^= 0x20;
        await System.IO.File.WriteAllBytesAsync(journal, bytes);

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
        var journal = JournalPath(sessionId);
        var bytes = await System.IO.File.ReadAllBytesAsync(journal);
        bytes[(int)Conformance.JournalDamage.FrameStarts(bytes)[2] + 30] ^= 0x01;
        await System.IO.File.WriteAllBytesAsync(journal, bytes);

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
            var expected = SessionDocumentSerializer.Serialize((await storage.LoadAsync(sessionId))!);
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
        }

        Assert.True(detected > 100, $"only {detected} of 150 damaged journals were reported");
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
}
