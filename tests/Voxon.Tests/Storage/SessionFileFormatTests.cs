using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Storage;

/// <summary>A stored session reads back in the spec's "Session Data Structure" (the JSON export and <c>voxon sessions
/// show</c> print), and the snapshot file stores embeddings as binary float32.</summary>
public class SessionFileFormatTests
{
    private static readonly DateTimeOffset Start = new(2024, 1, 15, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Stored_session_reads_back_with_the_specs_keys_and_the_transcript()
    {
        var time = new FakeTimeProvider(Start);
        await using var voxon = new TestVoxon(time: time);
        var session = await voxon.CreateSessionAsync(new SessionConfig { Voice = "nova", MemoryMode = MemoryMode.Persistent, Instructions = "You are a friendly tutor" });
        session.SetPreference("formality", "always_formal");
        await using (var first = await session.StartConversationAsync("c1"))
        {
            await Alice.SayAllAsync(first, Alice.Introduction);
            time.Advance(TimeSpan.FromSeconds(90));
        }

        using var file = await voxon.StoredDocumentAsync(session.SessionId);
        var root = file.RootElement;

        Assert.Equal(session.SessionId, root.GetProperty("session_id").GetString());
        Assert.Equal("alice", root.GetProperty("user_id").GetString());
        Assert.Equal(Start, root.GetProperty("created_at").GetDateTimeOffset());
        Assert.Equal(Start.AddSeconds(90), root.GetProperty("updated_at").GetDateTimeOffset());

        var config = root.GetProperty("config");
        Assert.Equal("You are a friendly tutor", config.GetProperty("instructions").GetString());
        Assert.Equal("nova", config.GetProperty("voice").GetString());
        Assert.Equal("persistent", config.GetProperty("memory_mode").GetString());
        Assert.Equal(0.8, config.GetProperty("temperature").GetDouble());
        Assert.Equal(4096, config.GetProperty("max_output_tokens").GetInt32());

        var memory = root.GetProperty("memory");
        var entries = memory.GetProperty("entries").EnumerateArray().ToList();
        // Both facts come from one turn, so they share a time; a load orders such ties by id, not by extraction order.
        Assert.Equal(["User is interested in quantum physics", "User's name is Alice"], entries.Select(e => e.GetProperty("content").GetString()).Order(StringComparer.Ordinal));
        var name = entries.Single(e => e.GetProperty("content").GetString() == "User's name is Alice");
        Assert.Equal("identity", name.GetProperty("category").GetString());
        Assert.Equal(0.9, name.GetProperty("importance").GetDouble());
        Assert.Equal(Start, name.GetProperty("timestamp").GetDateTimeOffset());
        Assert.Equal(session.GetMemory().TokenCount, memory.GetProperty("token_count").GetInt32());
        Assert.True(memory.GetProperty("token_count").GetInt32() > 0);

        var analytics = root.GetProperty("analytics");
        Assert.Equal(1, analytics.GetProperty("conversation_count").GetInt32());
        Assert.Equal(4, analytics.GetProperty("message_count").GetInt32());
        Assert.Equal(90, analytics.GetProperty("total_duration_seconds").GetDouble());

        Assert.Equal("always_formal", root.GetProperty("preferences").GetProperty("formality").GetString());

        var conversation = Assert.Single(root.GetProperty("conversations").EnumerateArray());
        Assert.Equal("c1", conversation.GetProperty("conversation_id").GetString());
        var turns = conversation.GetProperty("turns").EnumerateArray().ToList();
        Assert.Equal(["user", "assistant", "user", "assistant"], turns.Select(t => t.GetProperty("role").GetString()));
        Assert.Equal(Alice.Introduction[0], turns[0].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Embeddings_are_stored_as_binary_float32_and_read_back_as_base64_not_number_arrays()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var added = await session.AddMemoryAsync("User prefers formal language", "preference", 0.9);
        await session.SaveAsync();

        var stored = await File.ReadAllBytesAsync(voxon.PathOf(session.SessionId));
        var vector = System.Runtime.InteropServices.MemoryMarshal.AsBytes(added.Embedding.Span).ToArray();
        Assert.True(stored.AsSpan().IndexOf(vector) > 0, "the embedding's float32 bytes are in the snapshot as they are");

        using var file = await voxon.StoredDocumentAsync(session.SessionId);
        var embedding = Assert.Single(file.RootElement.GetProperty("memory").GetProperty("entries").EnumerateArray()).GetProperty("embedding");
        Assert.Equal(JsonValueKind.String, embedding.ValueKind);
        var bytes = Convert.FromBase64String(embedding.GetString()!);
        Assert.Equal(added.Embedding.Length * sizeof(float), bytes.Length);
        Assert.Equal(added.Embedding.Span[0], BitConverter.ToSingle(bytes, 0));
        Assert.True(added.Embedding.Length >= 64);
    }

    [Fact]
    public void Memory_record_round_trips_every_field()
    {
        var entry = new Voxon.Memory.MemoryEntry
        {
            Id = "mem_0123456789abcdef",
            Content = "User's name is Zoë 🚀",
            Category = "identity",
            Importance = 0.73,
            CreatedAt = Start,
            OccurredAt = Start.AddDays(-1).ToOffset(TimeSpan.FromHours(-5)),
            Context = "assistant: what's your name?",
            EmbeddingModel = "arctic-embed-xs",
            UpdatedAt = Start.AddMinutes(3).ToOffset(TimeSpan.FromHours(5.5)),
            ExpiresAt = Start.AddDays(30),
            Sensitive = true,
            Source = Voxon.Memory.MemorySource.Note,
            Scope = "branch_1",
            ConversationId = "conv_1",
            Slot = "identity.name",
            SupersededBy = "mem_fedcba9876543210",
            Author = "dr_9",
            TokenCount = 9,
            Embedding = new float[] { 0.25f, -1.5f, float.Epsilon, 3e30f },
        };

        // Every stored property is set above: one added to MemoryEntry must be added to MemoryRecordFormat and here.
        Assert.Equal(
            ["Author", "Category", "Content", "Context", "ConversationId", "CreatedAt", "Embedding", "EmbeddingModel", "ExpiresAt", "Id", "Importance", "OccurredAt", "Scope", "Sensitive", "Slot", "Source", "SupersededBy", "TokenCount", "Transient", "UpdatedAt"],
            typeof(Voxon.Memory.MemoryEntry).GetProperties().Select(p => p.Name).Order(StringComparer.Ordinal));

        var decoded = MemoryRecordFormat.Decode(MemoryRecordFormat.Encode(entry));

        Assert.Equal(JsonSerializer.Serialize(entry, VoxonJsonContext.Default.MemoryEntry), JsonSerializer.Serialize(decoded, VoxonJsonContext.Default.MemoryEntry));
        Assert.Equal(entry.Embedding.ToArray(), decoded.Embedding.ToArray());
        Assert.Equal(entry.UpdatedAt.Offset, decoded.UpdatedAt.Offset);
        Assert.True(MemoryRecordFormat.Decode(MemoryRecordFormat.Encode(entry with { Embedding = default, ExpiresAt = null, Context = null })).Embedding.IsEmpty);

        // No embedding, whatever empty vector stands for it, is no "embedding" key, as when the property was a null array.
        var none = JsonSerializer.Serialize(entry with { Embedding = Array.Empty<float>() }, VoxonJsonContext.Default.MemoryEntry);
        Assert.DoesNotContain("\"embedding\"", none, StringComparison.Ordinal);
        Assert.True(JsonSerializer.Deserialize(none.Replace("}", ",\"embedding\":null}", StringComparison.Ordinal), VoxonJsonContext.Default.MemoryEntry)!.Embedding.IsEmpty);
    }

    [Theory]
    [InlineData(100, 1)]
    [InlineData(SessionAssembler.LargeLoadThreshold, 1)]
    [InlineData(200, 2)]
    public void Memory_records_of_a_load_decode_into_shared_vector_blocks(int count, int dimensionsPer100)
    {
        // 100 vectors of 100 dimensions (40 KB) fit one small block; 200 of 200 (160 KB) take several; a large load one.
        var dimensions = 100 * dimensionsPer100;
        var entries = Enumerable.Range(0, count).Select(i => new Voxon.Memory.MemoryEntry
        {
            Id = $"mem_{i:x16}",
            Content = $"fact {i}",
            Category = "general",
            CreatedAt = Start.AddSeconds(i),
            Embedding = Enumerable.Range(0, dimensions).Select(d => i + (d / 1000f)).ToArray(),
        }).ToList();
        var records = FileJournal.EncodeRecords([.. entries.Select(e => new SessionRecord(RecordKind.Memory, e.Id, 0, MemoryRecordFormat.Encode(e)))]);
        var positions = new List<(int Offset, int Length)>();
        var reader = new RecordReader(records);
        while (reader.Next(out _, out _, out _, out var payload))
        {
            positions.Add((reader.Position - payload.Length, payload.Length));
        }

        var assembler = new SessionAssembler("file", "sess_blocks");
        assembler.Apply(RecordKind.Head, (string?)null, 0, SessionDocumentSerializer.Serialize(new SessionDocument { SessionId = "sess_blocks", UserId = "user_blocks", Config = new SessionConfig() }));
        assembler.ApplyMemoryRecords(records, positions);
        var loaded = assembler.Build()!.Memory.Entries;

        Assert.Equal(entries.Select(e => e.Embedding.ToArray()), loaded.Select(e => e.Embedding.ToArray()));
        var blocks = loaded.Select(e => System.Runtime.InteropServices.MemoryMarshal.TryGetArray(e.Embedding, out var segment) ? segment.Array! : null).Distinct().ToList();
        if (count >= SessionAssembler.LargeLoadThreshold || count * dimensions * sizeof(float) < 85_000)
        {
            Assert.Single(blocks);
        }
        else
        {
            Assert.All(blocks, b => Assert.True(b!.Length * sizeof(float) < 85_000, "a small load's blocks stay off the large object heap"));
            Assert.InRange(blocks.Count, 2, count / 10);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Memory_rows_of_a_load_decode_into_shared_vector_blocks_sealed_or_not(bool encrypted)
    {
        // Rows as PostgreSQL reads them, one by one into the load's batches: past the large-load threshold, so both small
        // blocks and one block per batch are used; one record in the legacy layout among them.
        using var folder = new TempFolder();
        var codec = new SessionRecordCodec("test", encrypted ? SessionEncryption.FromKey(new string('d', 64)) : null, new FileKeyRingStore(folder.Path));
        var key = await codec.KeyForAsync("user_rows", "save");
        var count = SessionAssembler.LargeLoadThreshold + 500;
        var entries = Enumerable.Range(0, count).Select(i => new Voxon.Memory.MemoryEntry
        {
            Id = $"mem_{i:x16}",
            Content = $"fact {i}",
            Category = "general",
            CreatedAt = Start.AddSeconds(i),
            Embedding = Enumerable.Range(0, 384).Select(d => i + (d / 1000f)).ToArray(),
        }).ToList();
        var head = new SessionRecord(RecordKind.Head, string.Empty, 0, SessionDocumentSerializer.Serialize(new SessionDocument { SessionId = "sess_rows", UserId = "user_rows", Config = new SessionConfig() }));
        var rows = entries.Select((e, i) => new SessionRecord(RecordKind.Memory, e.Id, 0, i == 7 ? MemoryRecordFormat.EncodeLegacy(e) : MemoryRecordFormat.Encode(e)))
            .Prepend(head).Select(r => codec.Seal(r, "sess_rows", key)).ToList();

        async Task<SessionDocument?> LoadAsync(List<SessionRecord> stored)
        {
            await using var load = new RecordLoad(codec, "sess_rows", withContent: true);
            foreach (var row in stored)
            {
                var reserved = load.Reserve(row.Kind, row.Payload.Length);
                row.Payload.CopyTo(reserved.AsSpan());
                if (load.KeyToFetch(reserved) is { } keyId)
                {
                    await load.FetchKeyAsync(keyId, default);
                }

                load.Add(row.Kind, row.Key, row.Index, reserved);
            }

            return await load.BuildAsync();
        }

        var loaded = (await LoadAsync(rows))!.Memory.Entries;

        Assert.Equal(entries.Select(e => e.Embedding.ToArray()), loaded.Select(e => e.Embedding.ToArray()));
        Assert.Equal(entries.Select(e => e.Content), loaded.Select(e => e.Content));
        var blocks = loaded.Select(e => System.Runtime.InteropServices.MemoryMarshal.TryGetArray(e.Embedding, out var segment) ? segment.Array! : null).Distinct().ToList();
        Assert.InRange(blocks.Count, 2, count / 20);

        // A damaged record among them is still reported.
        var damaged = rows.ToList();
        damaged[count / 2] = damaged[count / 2] with { Payload = encrypted ? Flip(damaged[count / 2].Payload) : damaged[count / 2].Payload[..^3] };
        await Assert.ThrowsAsync<SessionCorruptException>(() => LoadAsync(damaged));
    }

    [Theory]
    [InlineData(false, 300)]
    [InlineData(true, 300)]
    [InlineData(true, SessionAssembler.LargeLoadThreshold + 300)]
    public async Task Memory_records_read_all_at_once_decode_into_shared_vector_blocks_in_creation_order(bool encrypted, int count)
    {
        // Rows as Redis reads them: every record at once, in no particular order; some memories created at the same
        // moment, one in the legacy layout, one without an embedding, one of another model's size, and (encrypted) one
        // sealed with the master key as before the key ring; and a conversation, opened while the memories decode.
        using var folder = new TempFolder();
        var codec = new SessionRecordCodec("test", encrypted ? SessionEncryption.FromKey(new string('d', 64)) : null, new FileKeyRingStore(folder.Path));
        var key = await codec.KeyForAsync("user_rows", "save");
        var master = await codec.KeyForAsync(null, "save");
        var entries = Enumerable.Range(0, count).Select(i => new Voxon.Memory.MemoryEntry
        {
            Id = $"mem_{i:x16}",
            Content = $"fact {i}",
            Category = "general",
            CreatedAt = Start.AddSeconds(i / 3),
            Embedding = i == 5 ? default : Enumerable.Range(0, i == 9 ? 768 : 384).Select(d => i + (d / 1000f)).ToArray(),
        }).ToList();
        var head = new SessionRecord(RecordKind.Head, string.Empty, 0, SessionDocumentSerializer.Serialize(new SessionDocument { SessionId = "sess_rows", UserId = "user_rows", Config = new SessionConfig() }));
        var turns = Enumerable.Range(0, 40).Select(t => new Voxon.Conversations.ConversationTurn { Role = Voxon.Conversations.TurnRole.User, Content = $"turn {t}", Timestamp = Start.AddSeconds(t) }).ToList();
        var conversation = turns.Select((t, i) => new SessionRecord(RecordKind.Turn, "conv_1", i, TranscriptRecordFormat.Encode(t)))
            .Prepend(new SessionRecord(RecordKind.Conversation, "conv_1", 0, TranscriptRecordFormat.EncodeHeader(new ConversationDocument { ConversationId = "conv_1", StartedAt = Start })));
        var rows = entries.Select((e, i) => new SessionRecord(RecordKind.Memory, e.Id, 0, i == 7 ? MemoryRecordFormat.EncodeLegacy(e) : MemoryRecordFormat.Encode(e)))
            .Prepend(head).Concat(conversation).Select((r, i) => codec.Seal(r, "sess_rows", i == 11 ? master : key)).ToList();
        var shuffled = rows.OrderBy(r => (r.Key.GetHashCode(StringComparison.Ordinal) * 31) + r.Key.Length + r.Index).ToList();

        var document = (await codec.AssembleAsync("sess_rows", shuffled))!;
        var loaded = document.Memory.Entries;
        Assert.Equal(turns.Select(t => t.Content), document.Conversations.Single().Turns.Select(t => t.Content));
        Assert.Equal(encrypted, codec.TakeRewrite("sess_rows")); // read with the master key: sealed again on the next save

        Assert.Equal(entries.Select(e => e.Id), loaded.Select(e => e.Id));
        Assert.Equal(entries.Select(e => e.Embedding.ToArray()), loaded.Select(e => e.Embedding.ToArray()));
        var slices = loaded.Where(e => !e.Embedding.IsEmpty)
            .Select(e => System.Runtime.InteropServices.MemoryMarshal.TryGetArray(e.Embedding, out var segment) ? segment : default).ToList();
        var blocks = slices.GroupBy(s => s.Array).ToList();
        Assert.InRange(blocks.Count, 1, count / 20);

        // Blocks are not zeroed first: what no vector covers (sized for vectors that did not come) is cleared.
        foreach (var block in blocks)
        {
            var uncovered = block.Key!.ToArray();
            foreach (var slice in block)
            {
                Array.Clear(uncovered, slice.Offset, slice.Count);
            }

            Assert.All(uncovered, f => Assert.Equal(0f, f));
        }

        // A damaged record among them is still reported, a memory or a turn.
        foreach (var at in new[] { shuffled.FindIndex(r => r.Kind == RecordKind.Memory), shuffled.FindIndex(r => r.Kind == RecordKind.Turn) })
        {
            var damaged = shuffled.ToList();
            damaged[at] = damaged[at] with { Payload = encrypted ? Flip(damaged[at].Payload) : damaged[at].Payload[..^3] };
            await Assert.ThrowsAsync<SessionCorruptException>(() => codec.AssembleAsync("sess_rows", damaged));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_large_file_load_keeps_its_vectors_where_it_read_them_and_later_loads_leave_them_intact(bool encrypted)
    {
        // Past the size from which a snapshot's content section is read (or opened) into an array of the load's own:
        // the entries' vectors are views of it. Loads of another session of the same size afterwards rent and fill the
        // pooled buffers a load uses, so vectors left in one of those would change under the first session.
        using var folder = new TempFolder();
        var storage = new FileSessionStorage(folder.Path, encrypted ? SessionEncryption.FromKey(new string('d', 64)) : null);
        var count = (FileSessionStorage.KeptContentBytes / (384 * sizeof(float))) + 200;
        SessionDocument Document(string id, float seed) => new()
        {
            SessionId = id,
            UserId = "user_kept",
            Config = new SessionConfig { MaxMemorySize = 1_000_000 },
            Memory = new MemoryDocument
            {
                // Contents of differing lengths put the vectors at every offset modulo 4.
                Entries = [.. Enumerable.Range(0, count).Select(i => new Voxon.Memory.MemoryEntry
                {
                    Id = $"mem_{i:x16}",
                    Content = $"fact {i} " + new string('x', i % 5),
                    Category = "general",
                    CreatedAt = Start.AddSeconds(i),
                    Embedding = Enumerable.Range(0, 384).Select(d => seed + i + (d / 1000f)).ToArray(),
                })],
            },
        };
        var saved = Document("sess_kept", 0.5f).Memory.Entries.Select(e => e.Embedding.ToArray()).ToList();
        await storage.SaveAsync(Document("sess_kept", 0.5f));
        await storage.SaveAsync(Document("sess_other", 100_000));

        var kept = (await storage.LoadAsync("sess_kept"))!;
        Assert.All(kept.Memory.Entries, e => Assert.False(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(e.Embedding, out _), "a view of the read, not a copy"));
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(100_000f, (await storage.LoadAsync("sess_other"))!.Memory.Entries[0].Embedding.Span[0]);
        }

        Assert.Equal(saved, kept.Memory.Entries.Select(e => e.Embedding.ToArray()));

        // Saved again from the views, they store the same vectors.
        await storage.SaveAsync(new SessionDocument { SessionId = "sess_again", UserId = kept.UserId, Config = kept.Config, Memory = kept.Memory });
        Assert.Equal(saved, (await storage.LoadAsync("sess_again"))!.Memory.Entries.Select(e => e.Embedding.ToArray()));
    }

    private static byte[] Flip(byte[] bytes)
    {
        var copy = bytes.ToArray();
        copy[^1] ^= 1;
        return copy;
    }

    [Fact]
    public void Superseded_heads_are_read_up_to_their_version_and_only_the_last_head_whole()
    {
        byte[] Head(long version) => SessionDocumentSerializer.Serialize(new SessionDocument { SessionId = "sess_head", UserId = "user_head", Config = new SessionConfig(), Version = version });
        byte[] CutAfterVersion(byte[] head)
        {
            var version = head.AsSpan().IndexOf("\"version\":"u8);
            return head[..(version + head.AsSpan(version).IndexOf((byte)',') + 1)]; // the rest of the head missing
        }

        // A journal's heads, one a save: only the last is deserialized, the others read for their version only.
        var assembler = new SessionAssembler("file", "sess_head");
        assembler.Apply(RecordKind.Head, (string?)null, 0, CutAfterVersion(Head(7)));
        Assert.Equal(7, assembler.Version);
        assembler.Apply(RecordKind.Head, (string?)null, 0, Head(8));
        Assert.Equal(8, assembler.Build()!.Version);

        // The last head is read whole: cut short, it is corruption, not a session rebuilt from its first fields.
        var last = new SessionAssembler("file", "sess_head");
        last.Apply(RecordKind.Head, (string?)null, 0, Head(8));
        last.Apply(RecordKind.Head, (string?)null, 0, CutAfterVersion(Head(9)));
        Assert.Throws<SessionCorruptException>(() => last.Build());

        foreach (var bad in (string[])["{\"format_version\":1,\"version\":\"9\"}", "{\"format_version\":1,\"session_id\":\"sess_head\"}", "[1]", "{\"format_version\":[1,"])
        {
            Assert.Throws<SessionCorruptException>(() => new SessionAssembler("file", "sess_head").Apply(RecordKind.Head, (string?)null, 0, System.Text.Encoding.UTF8.GetBytes(bad)));
        }
    }

    [Fact]
    public void Recurring_fields_decode_to_shared_strings_and_never_to_another_value()
    {
        var entry = new Voxon.Memory.MemoryEntry { Id = "mem_0", Content = "first", Category = "general", CreatedAt = Start, UpdatedAt = Start, EmbeddingModel = "arctic-embed-xs" };
        var decoded = new[] { entry, entry with { Id = "mem_1" }, entry with { Id = "mem_2", Category = "généralité" }, entry with { Id = "mem_3", Category = "work" }, entry with { Id = "mem_4" } }
            .Select(e => MemoryRecordFormat.Decode(MemoryRecordFormat.Encode(e)))
            .ToList();

        // The same text comes back as one instance (a load does not allocate it per record) ...
        Assert.Same(decoded[0].Category, decoded[1].Category);
        Assert.Same(decoded[0].Category, decoded[4].Category);
        Assert.Same(decoded[0].EmbeddingModel, decoded[4].EmbeddingModel);

        // ... and a different text, ASCII or not, is never mistaken for one seen before.
        Assert.Equal(["general", "general", "généralité", "work", "general"], decoded.Select(e => e.Category));
        Assert.Equal(["mem_0", "mem_1", "mem_2", "mem_3", "mem_4"], decoded.Select(e => e.Id));
    }

    [Fact]
    public async Task Legacy_and_binary_memory_records_assemble_together_and_damage_is_reported()
    {
        var time = new FakeTimeProvider(Start);
        await using var voxon = new TestVoxon(time: time);
        var session = await voxon.CreateSessionAsync(new SessionConfig { SessionId = "mixed", MemoryMode = MemoryMode.Persistent });
        session.AddMemory("User's name is Alice", "identity", 0.9);
        time.Advance(TimeSpan.FromSeconds(1));
        session.AddMemory("User likes tea", "preference", 0.6);
        await session.SaveAsync();
        var document = (await voxon.Storage.LoadAsync("mixed"))!;

        // Rows as PostgreSQL and Redis hold them: one memory still in the legacy layout (int32 n | floats | JSON), one binary.
        var records = SessionRecords.Encode(document);
        var memories = records.FindIndex(r => r.Kind == RecordKind.Memory);
        records[memories] = records[memories] with { Payload = MemoryRecordFormat.EncodeLegacy(document.Memory.Entries[0]) };
        var codec = new SessionRecordCodec("test", null);

        var assembled = (await codec.AssembleAsync("mixed", records))!;

        Assert.Equal(document.Memory.Entries.Select(e => JsonSerializer.Serialize(e, VoxonJsonContext.Default.MemoryEntry)),
            assembled.Memory.Entries.Select(e => JsonSerializer.Serialize(e, VoxonJsonContext.Default.MemoryEntry)));

        var binary = records.FindLastIndex(r => r.Kind == RecordKind.Memory);
        records[binary] = records[binary] with { Payload = records[binary].Payload[..^3] };
        var error = await Assert.ThrowsAsync<SessionCorruptException>(() => codec.AssembleAsync("mixed", records));
        Assert.Contains("Memory record", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Turn_and_conversation_header_records_round_trip_every_field()
    {
        var turn = new Voxon.Conversations.ConversationTurn
        {
            Role = Voxon.Conversations.TurnRole.Assistant,
            Content = "Bonjour Zoë 🚀",
            Timestamp = Start.ToOffset(TimeSpan.FromHours(5.5)),
            ResponseTimeMs = 12.5,
            InjectedMemoryIds = ["mem_1", "mem_2"],
            Injections = [new("mem_1", "profile", 0.9), new("mem_2", "relevant", 0.42, "branch_1")],
            Context = new Voxon.Conversations.ContextUsage(120, 2000),
            AudioSeconds = 3.25,
            Interrupted = true,
            GeneratedContent = "Bonjour Zoë 🚀, how was the trip?",
            TimeToFirstTokenMs = 80.0,
            ToolCalls = [new("recall", "{\"q\":\"trip\"}", "[]", false), new("forget", null, "no such memory", true)],
        };
        var header = new ConversationDocument
        {
            ConversationId = "conv_2",
            ParentId = "conv_1",
            BranchPoint = 4,
            StartedAt = Start,
            EndedAt = Start.AddMinutes(5).ToOffset(TimeSpan.FromHours(-5)),
            LastActivityAt = Start.AddMinutes(4),
            DurationSeconds = 300.5,
            InjectionCount = 7,
        };

        // Every stored property is set above: one added to a turn or a conversation must be added to TranscriptRecordFormat and here.
        Assert.Equal(
            ["AudioSeconds", "Content", "Context", "GeneratedContent", "InjectedMemoryIds", "Injections", "Interrupted", "ResponseTimeMs", "Role", "TimeToFirstTokenMs", "Timestamp", "ToolCalls"],
            typeof(Voxon.Conversations.ConversationTurn).GetProperties().Where(p => p.Name != "EqualityContract").Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(
            ["BranchPoint", "ConversationId", "DurationSeconds", "EndedAt", "InjectionCount", "LastActivityAt", "ParentId", "StartedAt", "Turns"],
            typeof(ConversationDocument).GetProperties().Select(p => p.Name).Order(StringComparer.Ordinal));

        foreach (var t in new[] { turn, new Voxon.Conversations.ConversationTurn { Role = Voxon.Conversations.TurnRole.User, Content = "", Timestamp = Start } })
        {
            var decoded = TranscriptRecordFormat.DecodeTurn(TranscriptRecordFormat.Encode(t));
            Assert.Equal(JsonSerializer.Serialize(t, VoxonJsonContext.Default.ConversationTurn), JsonSerializer.Serialize(decoded, VoxonJsonContext.Default.ConversationTurn));
            Assert.Equal(t.Timestamp.Offset, decoded.Timestamp.Offset);
        }

        foreach (var h in new[] { header, new ConversationDocument { ConversationId = "conv_3", StartedAt = Start } })
        {
            var decoded = TranscriptRecordFormat.DecodeHeader(TranscriptRecordFormat.EncodeHeader(h));
            Assert.Equal(JsonSerializer.Serialize(h, VoxonJsonContext.Default.ConversationDocument), JsonSerializer.Serialize(decoded, VoxonJsonContext.Default.ConversationDocument));
        }
    }

    [Fact]
    public async Task Json_and_binary_transcript_records_assemble_together_and_damage_is_reported()
    {
        await using var voxon = new TestVoxon(time: new FakeTimeProvider(Start));
        var session = await voxon.CreateSessionAsync(new SessionConfig { SessionId = "transcripts", MemoryMode = MemoryMode.Persistent });
        await using (var conversation = await session.StartConversationAsync("c1"))
        {
            await Alice.SayAllAsync(conversation, Alice.Introduction);
        }

        await session.SaveAsync();
        var document = (await voxon.Storage.LoadAsync("transcripts"))!;
        var json = JsonSerializer.Serialize(document, VoxonJsonContext.Default.SessionDocument);

        // Records as an older version wrote them, with the first turn and the header in JSON and the rest binary.
        var records = SessionRecords.Encode(document);
        var header = records.FindIndex(r => r.Kind == RecordKind.Conversation);
        var firstTurn = records.FindIndex(r => r.Kind == RecordKind.Turn);
        records[header] = records[header] with { Payload = JsonSerializer.SerializeToUtf8Bytes(document.Conversations[0].WithoutTurns(), VoxonJsonContext.Default.ConversationDocument) };
        records[firstTurn] = records[firstTurn] with { Payload = JsonSerializer.SerializeToUtf8Bytes(document.Conversations[0].Turns[0], VoxonJsonContext.Default.ConversationTurn) };
        Assert.NotEqual((byte)'{', records[firstTurn + 1].Payload[0]);
        var codec = new SessionRecordCodec("test", null);

        Assert.Equal(json, JsonSerializer.Serialize((await codec.AssembleAsync("transcripts", records))!, VoxonJsonContext.Default.SessionDocument));

        var damaged = records.FindLastIndex(r => r.Kind == RecordKind.Turn);
        var cut = records.ToList();
        cut[damaged] = cut[damaged] with { Payload = cut[damaged].Payload[..^3] };
        Assert.Contains("Turn record", (await Assert.ThrowsAsync<SessionCorruptException>(() => codec.AssembleAsync("transcripts", cut))).Message, StringComparison.Ordinal);

        var badHeader = records.ToList();
        badHeader[header] = badHeader[header] with { Payload = TranscriptRecordFormat.EncodeHeader(document.Conversations[0])[..^2] };
        Assert.Contains("Conversation record", (await Assert.ThrowsAsync<SessionCorruptException>(() => codec.AssembleAsync("transcripts", badHeader))).Message, StringComparison.Ordinal);

        var badHead = records.ToList();
        badHead[0] = badHead[0] with { Payload = badHead[0].Payload[..^1] };
        Assert.Contains("Head record", (await Assert.ThrowsAsync<SessionCorruptException>(() => codec.AssembleAsync("transcripts", badHead))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_whole_json_session_naming_a_memory_twice_is_corrupt_while_records_of_one_memory_keep_the_last()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync(new SessionConfig { SessionId = "twice", MemoryMode = MemoryMode.Persistent });
        session.AddMemory("User likes tea", "preference");
        await session.SaveAsync();
        var document = (await voxon.Storage.LoadAsync("twice"))!;
        var entry = Assert.Single(document.Memory.Entries);

        // A whole document (the format before records) is checked for an id given twice.
        document.Memory.Entries.Add(entry with { Content = "User likes coffee" });
        var json = JsonSerializer.SerializeToUtf8Bytes(document, VoxonJsonContext.Default.SessionDocument);
        var error = Assert.Throws<SessionCorruptException>(() => SessionDocumentSerializer.Deserialize(json, "test", "twice"));
        Assert.Contains($"memory id '{entry.Id}' appears twice", error.Message, StringComparison.Ordinal);

        // Records are keyed by id: a later record of a memory replaces the earlier one, as a journal's do.
        document.Memory.Entries.RemoveAt(1);
        var records = SessionRecords.Encode(document);
        records.Add(new SessionRecord(RecordKind.Memory, entry.Id, 0, MemoryRecordFormat.Encode(entry with { Content = "User likes coffee" })));
        var assembled = (await new SessionRecordCodec("test", null).AssembleAsync("twice", records))!;
        Assert.Equal("User likes coffee", Assert.Single(assembled.Memory.Entries).Content);
    }
}
