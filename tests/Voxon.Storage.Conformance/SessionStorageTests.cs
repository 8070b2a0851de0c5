using System.Text;
using Voxon.Conversations;
using Voxon.Sessions;
using Voxon.Storage.Worker;

namespace Voxon.Storage.Conformance;

/// <summary>
/// The behaviour every <see cref="SessionStorage"/> backend must have. A backend's test class inherits it with its
/// fixture; tests are virtual so a backend can override one with a reason.
/// </summary>
public abstract partial class SessionStorageTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : StorageFixture
{
    protected const string Secret = "Zebra-saffron 4471 quokka";

    protected TFixture Fixture { get; } = fixture;

    protected static string Key1 => "first test key for session encryption";

    protected static string Key2 => "second test key for session encryption";

    [SkippableFact]
    public virtual async Task Full_session_round_trips_with_memory_conversations_and_unicode()
    {
        var storage = Open();
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_roundtrip");
        await session.AddMemoryAsync("User's name is Zoë, lives in Kraków 🌍", "identity", 0.9);
        await session.AddMemoryAsync("Prefers tea over coffee", "preference", 0.6, sensitive: true);
        var occurredAt = new DateTimeOffset(2023, 5, 8, 13, 56, 0, TimeSpan.Zero);
        await session.AddMemoryAsync("Started the new job yesterday", "event", occurredAt: occurredAt, context: "Friend: how is work?");
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("Héllo, ça va? 你好");
        var branch = await session.StartConversationAsync(parentId: conversation.ConversationId);
        await branch.SendMessageAsync("Second conversation — with a dash");
        session.SetPreference("formality", "always_formal");
        await session.SaveAsync();

        var loaded = await client.LoadSessionAsync(session.SessionId);
        Assert.Equal(session.Version, loaded.Version);
        Assert.Equal(session.UserId, loaded.UserId);
        Assert.Equal(
            session.GetMemory().Entries.Select(e => (e.Id, e.Content, e.Category, e.Importance, e.Sensitive)),
            loaded.GetMemory().Entries.Select(e => (e.Id, e.Content, e.Category, e.Importance, e.Sensitive)));
        Assert.All(loaded.GetMemory().Entries, e => Assert.Equal(384, e.Embedding.Length));
        Assert.Equal(session.GetMemory().Entries[0].Embedding.ToArray(), loaded.GetMemory().Entries[0].Embedding.ToArray());
        Assert.Equal(
            session.GetMemory().Entries.Select(e => (e.OccurredAt, e.Context, e.EmbeddingModel)),
            loaded.GetMemory().Entries.Select(e => (e.OccurredAt, e.Context, e.EmbeddingModel)));
        Assert.Equal(occurredAt, loaded.GetMemory().Entries.Single(e => e.Category == "event").OccurredAt);
        Assert.Equal(session.Conversations.Select(c => (c.ConversationId, c.ParentId, c.TurnCount)), loaded.Conversations.Select(c => (c.ConversationId, c.ParentId, c.TurnCount)));
        Assert.Equal(session.GetTranscript(conversation.ConversationId).Select(t => t.Content), loaded.GetTranscript(conversation.ConversationId).Select(t => t.Content));
        Assert.Contains("你好", loaded.GetTranscript(conversation.ConversationId)[0].Content, StringComparison.Ordinal);
    }

    [SkippableFact]
    public virtual async Task Incremental_saves_accumulate_to_the_same_session_as_a_full_load()
    {
        var storage = Open();
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_incremental");
        var conversation = await session.StartConversationAsync();
        for (var i = 0; i < 5; i++)
        {
            await conversation.SendMessageAsync($"message number {i}");
            await session.AddMemoryAsync($"incremental fact {i}");
            await session.SaveAsync();
        }

        session.ClearMemory("general");
        await session.AddMemoryAsync("kept after clearing", "identity");
        await session.SaveAsync();

        var loaded = await client.LoadSessionAsync(session.SessionId);
        Assert.Equal(6, loaded.Version);
        Assert.Equal(10, loaded.GetTranscript(conversation.ConversationId).Count);
        Assert.Equal(session.GetMemory().Entries.Select(e => e.Content).Order(), loaded.GetMemory().Entries.Select(e => e.Content).Order());
    }

    [SkippableFact]
    public virtual async Task Interrupted_reply_is_rewritten_as_heard_with_its_generated_text_tool_calls_and_first_token_time()
    {
        var storage = Open();
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_replaced");
        var conversation = await session.StartConversationAsync();
        await foreach (var _ in conversation.StreamMessageAsync("My name is Alice"))
        {
        }

        await session.SaveAsync();
        var generated = conversation.Transcript[1].Content;

        // A reply that called a tool carries it in the stored turn (a turn edited in place must be rewritten).
        var state = session.FindConversation(conversation.ConversationId);
        ToolCall call = new("get_weather", """{"city":"Lisbon"}""", "Sunny", false);
        state.Turns[1] = state.Turns[1] with { ToolCalls = [call] };
        state.TurnsChangedFrom(1);
        Assert.True(conversation.Interrupt(generated.Split(' ')[0])); // the reply was stored whole: this rewrites it
        await session.SaveAsync();

        var stored = (await storage.LoadAsync(session.SessionId))!;
        Assert.Equal(2, stored.Conversations[0].Turns.Count);
        var turn = stored.Conversations[0].Turns[1];
        Assert.Equal((generated.Split(' ')[0], generated, true), (turn.Content, turn.GeneratedContent, turn.Interrupted));
        Assert.Equal(call, Assert.Single(turn.ToolCalls!));
        Assert.NotNull(turn.TimeToFirstTokenMs);
    }

    [SkippableFact]
    public virtual async Task Save_after_one_turn_sends_only_the_new_turns()
    {
        var counting = new CountingStorage(Open());
        await using var client = WorkerStorage.Client(counting);
        var session = await client.CreateSessionAsync("user_delta");
        for (var i = 0; i < 50; i++)
        {
            await session.AddMemoryAsync($"background fact {i} about topic {i * 7}");
        }

        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("first");
        await session.SaveAsync();
        var before = (await Fixture.ReadRawAsync()).Length;

        await conversation.SendMessageAsync("second message");
        await session.SaveAsync();

        var delta = counting.ChangeSets[^1];
        Assert.Empty(delta.UpsertedMemories);
        Assert.Empty(delta.RemovedMemoryIds);
        var change = Assert.Single(delta.Conversations);
        Assert.Equal(2, change.FirstNewTurn);
        Assert.Equal(2, change.Conversation.Turns.Count);
        var growth = (await Fixture.ReadRawAsync()).Length - before;
        Assert.True(growth < 16_000, $"a one-turn save grew the stored bytes by {growth}");
        Assert.Equal(4, (await client.LoadSessionAsync(session.SessionId)).GetTranscript(conversation.ConversationId).Count);
    }

    [SkippableFact]
    public virtual async Task List_returns_the_users_sessions_newest_first()
    {
        var storage = Open();
        await using var client = WorkerStorage.Client(storage);
        var user = "user_list_" + Guid.NewGuid().ToString("N")[..6];
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var session = await client.CreateSessionAsync(user);
            await session.AddMemoryAsync($"listing fact {i}");
            await session.SaveAsync();
            ids.Add(session.SessionId);
            await Task.Delay(5);
        }

        var other = await client.CreateSessionAsync("someone_else");
        await other.SaveAsync();

        var listed = await storage.ListAsync(user);
        Assert.Equal(ids.AsEnumerable().Reverse(), listed.Select(s => s.SessionId));
        Assert.All(listed, s => Assert.Equal(user, s.UserId));
        Assert.Contains(other.SessionId, (await storage.ListAsync()).Select(s => s.SessionId));
    }

    [SkippableFact]
    public virtual async Task Delete_removes_the_session()
    {
        var storage = Open();
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_delete");
        await session.AddMemoryAsync("to be deleted");
        await session.SaveAsync();

        Assert.True(await storage.DeleteAsync(session.SessionId));
        Assert.Null(await storage.LoadAsync(session.SessionId));
        Assert.False(await storage.DeleteAsync(session.SessionId));
        Assert.DoesNotContain(session.SessionId, (await storage.ListAsync("user_delete")).Select(s => s.SessionId));
    }

    [SkippableFact]
    public virtual async Task Delete_for_a_version_keeps_a_session_saved_since_and_never_an_acknowledged_save_is_lost()
    {
        const string User = "user_delete_version";
        var storage = Open();
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync(User);
        await session.SaveAsync();
        var seen = (await storage.LoadMetadataAsync(session.SessionId))!.Version;
        await session.AddMemoryAsync("saved after the version was read");
        await session.SaveAsync();

        var error = await Assert.ThrowsAsync<SessionConcurrencyException>(() => storage.DeleteAsync(session.SessionId, seen));
        Assert.Equal(("delete", seen, seen + 1), (error.Operation, error.ExpectedVersion, error.ActualVersion));
        Assert.Equal(["saved after the version was read"], (await storage.LoadAsync(session.SessionId))!.Memory.Entries.Select(e => e.Content));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => storage.DeleteAsync(session.SessionId, 0));

        Assert.True(await storage.DeleteAsync(session.SessionId, seen + 1));
        Assert.Null(await storage.LoadAsync(session.SessionId));
        Assert.False(await storage.DeleteAsync(session.SessionId, seen + 1));

        // A save racing a delete for the version it replaces: either the save is refused or it is kept, never both
        // acknowledged and deleted.
        for (var round = 0; round < 20; round++)
        {
            var racing = await client.CreateSessionAsync(User);
            await racing.SaveAsync();
            var version = (await storage.LoadMetadataAsync(racing.SessionId))!.Version;
            await racing.AddMemoryAsync($"round {round}");
            var save = Task.Run(() => racing.SaveAsync());
            var delete = Task.Run(() => storage.DeleteAsync(racing.SessionId, version));
            var saved = await save.ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
            await Record.ExceptionAsync(() => delete);
            if (saved)
            {
                Assert.True(await storage.LoadAsync(racing.SessionId) is not null, $"round {round}: an acknowledged save was deleted");
            }
        }
    }

    [SkippableFact]
    public virtual async Task Save_with_stale_version_throws_concurrency_error()
    {
        var storage = Open();
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_stale");
        await session.SaveAsync();
        var first = await client.LoadSessionAsync(session.SessionId);
        var second = await client.LoadSessionAsync(session.SessionId);
        await first.AddMemoryAsync("first writer wins");
        await first.SaveAsync();
        await second.AddMemoryAsync("second writer is stale");

        var error = await Assert.ThrowsAsync<SessionConcurrencyException>(() => second.SaveAsync());
        Assert.Equal(1, error.ExpectedVersion);
        Assert.Equal(2, error.ActualVersion);
        Assert.Equal(storage.BackendName, error.Backend);
        var stored = await client.LoadSessionAsync(session.SessionId);
        Assert.Equal(["first writer wins"], stored.GetMemory().Entries.Select(e => e.Content));

        // A full save based on a stale version is refused too.
        var document = (await storage.LoadAsync(session.SessionId))!;
        document.Version = 2;
        await Assert.ThrowsAsync<SessionConcurrencyException>(() => storage.SaveAsync(document));
    }

    [SkippableFact]
    public virtual async Task Create_never_replaces_a_stored_session_whatever_its_version()
    {
        var storage = Open();
        SessionDocument Document(string id, long version, string content)
        {
            var document = new SessionDocument { SessionId = id, UserId = "user_create", Config = new SessionConfig { UserId = "user_create" }, Version = version };
            document.Memory.Entries.Add(new Memory.MemoryEntry { Id = "mem_create", Content = content, Category = "general" });
            return document;
        }

        var id = SessionIds.NewSessionId();
        await storage.CreateAsync(Document(id, 5, "first import"));
        Assert.Equal(5, (await storage.LoadAsync(id))!.Version);

        // The next version would be a valid save, but a create never replaces.
        var error = await Assert.ThrowsAsync<SessionConcurrencyException>(() => storage.CreateAsync(Document(id, 6, "second import")));
        Assert.Equal((0L, 5L), (error.ExpectedVersion, error.ActualVersion));
        Assert.Equal(["first import"], (await storage.LoadAsync(id))!.Memory.Entries.Select(e => e.Content));

        // Creates of one id at once: exactly one is acknowledged, and it is the one stored.
        for (var round = 0; round < 10; round++)
        {
            var racing = SessionIds.NewSessionId();
            var creates = Enumerable.Range(1, 4).Select(v => Task.Run(async () =>
            {
                try
                {
                    await storage.CreateAsync(Document(racing, v, $"create {v}"));
                    return v;
                }
                catch (SessionConcurrencyException)
                {
                    return 0;
                }
            })).ToList();
            var won = Assert.Single(await Task.WhenAll(creates), v => v > 0);
            Assert.Equal(won, (await storage.LoadAsync(racing))!.Version);
        }
    }

    [SkippableFact]
    public virtual async Task A_full_save_under_another_user_moves_the_session_and_a_stale_one_is_refused()
    {
        // Backends that place a user's data together (Redis hash tags, PostgreSQL partitions) move it between users.
        var storage = Open();
        var id = SessionIds.NewSessionId();
        var (from, to) = ("user_move_from_" + id[^6..], "user_move_to_" + id[^6..]);
        var document = new SessionDocument { SessionId = id, UserId = from, Config = new SessionConfig { UserId = from }, Version = 1 };
        document.Memory.Entries.Add(new Memory.MemoryEntry { Id = "mem_move", Content = "moves with the session", Category = "general" });
        await storage.SaveAsync(document);

        document.UserId = document.Config.UserId = to;
        document.Version = 3; // skips a version: stale
        await Assert.ThrowsAsync<SessionConcurrencyException>(() => storage.SaveAsync(document));
        Assert.Equal(from, (await storage.LoadAsync(id))!.UserId);

        document.Version = 2;
        await storage.SaveAsync(document);
        var loaded = (await storage.LoadAsync(id))!;
        Assert.Equal(to, loaded.UserId);
        Assert.Equal("moves with the session", Assert.Single(loaded.Memory.Entries).Content);
        Assert.Empty(await storage.ListAsync(from));
        Assert.Equal(id, Assert.Single(await storage.ListAsync(to)).SessionId);
        Assert.Single(await storage.ListAsync(), s => s.SessionId == id);
    }

    [SkippableFact]
    public virtual async Task Encrypted_session_round_trips_and_stores_no_plaintext()
    {
        var storage = Open(SessionEncryption.FromKey(Key1));
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_encrypted");
        await session.AddMemoryAsync("The vault code is " + Secret);
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("Remember " + Secret);
        await session.SaveAsync();
        await conversation.SendMessageAsync("Again " + Secret);
        await session.SaveAsync();
        await storage.SaveTemplateAsync(new TemplateDocument { Name = "secret_template", BaseConfig = new SessionConfig { Instructions = Secret } });

        var raw = await Fixture.ReadRawAsync();
        Assert.True(raw.Length > 1000);
        Assert.DoesNotContain(Secret, Encoding.UTF8.GetString(raw), StringComparison.Ordinal);
        Assert.DoesNotContain("vault", Encoding.Latin1.GetString(raw), StringComparison.Ordinal);

        var loaded = await client.LoadSessionAsync(session.SessionId);
        Assert.Contains(Secret, loaded.GetMemory().Entries[0].Content, StringComparison.Ordinal);
        Assert.Equal(4, loaded.GetTranscript(conversation.ConversationId).Count);
        Assert.Equal(Secret, (await storage.LoadTemplateAsync("secret_template"))!.BaseConfig.Instructions);
    }

    [SkippableFact]
    public virtual async Task Tampered_record_or_wrong_key_gives_a_clear_error()
    {
        var storage = Open(SessionEncryption.FromKey(Key1));
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_tamper");
        await session.AddMemoryAsync("tamper target " + Secret);
        await session.SaveAsync();

        var wrongKey = Open(SessionEncryption.FromKey(Key2));
        var wrong = await Assert.ThrowsAsync<SessionCorruptException>(() => wrongKey.LoadAsync(session.SessionId));
        Assert.Contains("not configured", wrong.Message, StringComparison.Ordinal);
        var noKey = await Assert.ThrowsAsync<SessionCorruptException>(() => Open().LoadAsync(session.SessionId));
        Assert.Contains("encrypted", noKey.Message, StringComparison.Ordinal);

        await Fixture.TamperAsync(session.SessionId);
        var tampered = await Assert.ThrowsAsync<SessionCorruptException>(() => storage.LoadAsync(session.SessionId));
        Assert.Contains("tampered", tampered.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public virtual async Task Rotated_key_reads_old_records_and_rewrites_them_on_save()
    {
        await using var oldClient = WorkerStorage.Client(Open(SessionEncryption.FromKey(Key1)));
        var session = await oldClient.CreateSessionAsync("user_rotate");
        await session.AddMemoryAsync("written with the old key");
        await session.SaveAsync();

        await using var rotated = WorkerStorage.Client(Open(SessionEncryption.FromKey(Key2, Key1)));
        var loaded = await rotated.LoadSessionAsync(session.SessionId);
        Assert.Equal("written with the old key", Assert.Single(loaded.GetMemory().Entries).Content);
        await loaded.AddMemoryAsync("written with the new key");
        await loaded.SaveAsync();

        var newOnly = Open(SessionEncryption.FromKey(Key2));
        var reread = await newOnly.LoadAsync(session.SessionId);
        Assert.Equal(2, reread!.Memory.Entries.Count);
    }

    [SkippableFact]
    public virtual async Task Lazy_load_reads_metadata_first_and_content_on_first_use()
    {
        var counting = new CountingStorage(Open());
        await using var client = WorkerStorage.Client(counting);
        var session = await client.CreateSessionAsync("user_lazy");
        await session.AddMemoryAsync("lazy memory");
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("lazy message");
        await session.SaveAsync();

        var lazy = await client.LoadSessionAsync(session.SessionId, lazyLoad: true);
        Assert.False(lazy.IsContentLoaded);
        Assert.Equal(0, counting.Loads);
        lazy.SetPreference("tone", "warm");
        await lazy.SaveAsync();
        Assert.False(lazy.IsContentLoaded);

        Assert.Equal("lazy memory", Assert.Single(lazy.GetMemory().Entries).Content);
        Assert.True(lazy.IsContentLoaded);
        Assert.Equal(1, counting.Loads);
        Assert.Equal(2, lazy.GetTranscript(conversation.ConversationId).Count);
        Assert.Equal(2, Assert.Single(lazy.Conversations).TurnCount);
        await lazy.AddMemoryAsync("added after lazy load");
        await lazy.SaveAsync();
        var full = (await counting.LoadAsync(session.SessionId))!;
        Assert.Equal(2, full.Memory.Entries.Count);
        Assert.Equal(2, full.Conversations[0].Turns.Count);
        Assert.Equal("warm", full.Preferences["tone"]);
    }

    [SkippableFact]
    public virtual async Task A_conversation_started_after_a_lazy_load_has_its_content_read_before_the_first_turn()
    {
        var counting = new CountingStorage(Open());
        await using var client = WorkerStorage.Client(counting);
        var session = await client.CreateSessionAsync("user_lazy_call");
        await session.AddMemoryAsync("My dog is called Rex", "pets");
        var earlier = await session.StartConversationAsync();
        await earlier.SendMessageAsync("an earlier call");
        await session.SaveAsync();

        // A call: loaded lazily to start at once, its conversation started before the user first speaks. The content is
        // read and the search index built on the thread pool meanwhile, not by the first turn.
        var lazy = await client.LoadSessionAsync(session.SessionId, lazyLoad: true);
        var call = await lazy.StartConversationAsync();
        Assert.True(
            SpinWait.SpinUntil(() => lazy.IsContentLoaded && lazy.SearchIndexBuilt, TimeSpan.FromSeconds(10)),
            $"after the conversation started: content read {lazy.IsContentLoaded}, search index built {lazy.SearchIndexBuilt}");
        Assert.Equal(1, counting.Loads);
        Assert.Equal(2, lazy.GetTranscript(earlier.ConversationId).Count);

        var reply = await call.SendMessageAsync("What is my dog called?");
        Assert.Contains("Rex", reply, StringComparison.Ordinal);
        Assert.Equal(1, counting.Loads);
        await lazy.SaveAsync();
        var stored = (await counting.LoadAsync(session.SessionId))!;
        Assert.Equal(["My dog is called Rex"], stored.Memory.Entries.Select(e => e.Content));
        Assert.Equal([2, 2], stored.Conversations.Select(c => c.Turns.Count));
    }

    [SkippableFact]
    public virtual async Task Batch_update_makes_exactly_one_write()
    {
        var counting = new CountingStorage(Open());
        await using var client = WorkerStorage.Client(counting);
        var session = await client.CreateSessionAsync("user_batch");
        await session.SaveAsync();
        var before = counting.Writes;

        await using (session.BatchUpdate())
        {
            await session.AddMemoryAsync("batched one");
            await session.AddMemoryAsync("batched two");
            session.SetPreference("verbosity", "low");
            await session.SaveAsync();
            using (session.BatchUpdate())
            {
                await session.AddMemoryAsync("nested batch");
                await session.SaveAsync();
            }

            Assert.Equal(before, counting.Writes);
        }

        Assert.Equal(before + 1, counting.Writes);
        var stored = (await counting.LoadAsync(session.SessionId))!;
        Assert.Equal(3, stored.Memory.Entries.Count);
        Assert.Equal("low", stored.Preferences["verbosity"]);
    }

    [SkippableFact]
    public virtual async Task Large_session_of_1000_memories_round_trips()
    {
        var storage = Open();
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_large", new SessionConfig { MaxMemorySize = 1_000_000 });
        for (var i = 0; i < 1000; i++)
        {
            await session.AddMemoryAsync($"large session fact {i} with some words {i % 17}");
        }

        await session.SaveAsync();
        await session.AddMemoryAsync("one more");
        await session.SaveAsync();

        var loaded = (await storage.LoadAsync(session.SessionId))!;
        Assert.Equal(1001, loaded.Memory.Entries.Count);
        Assert.All(loaded.Memory.Entries, e => Assert.Equal(384, e.Embedding.Length));
    }

    [SkippableFact]
    public virtual async Task Invalid_ids_are_rejected_before_touching_storage()
    {
        var storage = Open();
        foreach (var id in new[] { "../escape", "a/b", "", ".hidden", new string('x', 200), "semi;colon" })
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(() => storage.LoadAsync(id));
            await Assert.ThrowsAnyAsync<ArgumentException>(() => storage.DeleteAsync(id));
        }

        await Assert.ThrowsAnyAsync<ArgumentException>(() => storage.ListAsync("bad/user"));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => storage.LoadTemplateAsync("../t"));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => storage.FindShareAsync("not-a-hash"));
        Assert.Null(await storage.LoadAsync("sess_missing_" + Guid.NewGuid().ToString("N")));
    }

    [SkippableFact]
    public virtual async Task Shares_and_templates_round_trip()
    {
        var storage = Open(SessionEncryption.FromKey(Key1));
        var sessionId = SessionIds.NewSessionId();
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Guid.NewGuid().ToByteArray()));
        var share = new ShareRecord
        {
            ShareId = "share_" + Guid.NewGuid().ToString("N")[..8],
            SessionId = sessionId,
            OwnerUserId = "owner",
            SharedWithUserId = "friend",
            TokenHash = hash,
            Permissions = ["read"],
            CreatedAt = DateTimeOffset.UnixEpoch.AddDays(1),
            ExpiresAt = DateTimeOffset.UnixEpoch.AddDays(2),
        };
        await storage.SaveShareAsync(share);
        share.RevokedAt = DateTimeOffset.UnixEpoch.AddDays(1.5);
        await storage.SaveShareAsync(share);

        var found = await storage.FindShareAsync(hash);
        Assert.Equal(share.RevokedAt, found!.RevokedAt);
        Assert.Equal(["read"], found.Permissions);
        Assert.Equal(share.ShareId, Assert.Single(await storage.ListSharesAsync(sessionId)).ShareId);
        Assert.Null(await storage.FindShareAsync(new string('0', 64)));

        var name = "tpl_" + Guid.NewGuid().ToString("N")[..6];
        await storage.SaveTemplateAsync(new TemplateDocument { Name = name, BaseConfig = new SessionConfig { Instructions = "Be brief" }, RequiredContext = ["plan"], MemoryCategories = ["note"] });
        var template = await storage.LoadTemplateAsync(name);
        Assert.Equal("Be brief", template!.BaseConfig.Instructions);
        Assert.Equal(["plan"], template.RequiredContext);
        Assert.Contains(name, await storage.ListTemplatesAsync());
        Assert.Null(await storage.LoadTemplateAsync("tpl_missing"));
    }

    [SkippableFact]
    public virtual async Task Unreachable_backend_gives_a_clear_storage_error()
    {
        Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);
        await using var broken = Fixture.CreateBroken();
        var document = new SessionDocument { SessionId = SessionIds.NewSessionId(), UserId = "user_broken", Config = new SessionConfig(), Version = 1 };
        var error = await Assert.ThrowsAnyAsync<VoxonStorageException>(() => broken.SaveAsync(document));
        Assert.Equal(broken.BackendName, error.Backend);
        Assert.Equal("save", error.Operation);
        Assert.Contains(broken.BackendName, error.Message, StringComparison.Ordinal);
        Assert.IsNotType<SessionConcurrencyException>(error);
        Assert.Equal(Fixture.BrokenIsTransient, error.IsTransient);
    }

    [SkippableFact]
    public virtual async Task Operations_after_disposal_give_a_clear_storage_error()
    {
        var storage = Open();
        var document = new SessionDocument { SessionId = SessionIds.NewSessionId(), UserId = "user_disposed", Config = new SessionConfig(), Version = 1 };
        await storage.SaveAsync(document);
        await storage.DisposeAsync();

        foreach (var (operation, call) in new (string, Func<Task>)[]
        {
            ("load", () => storage.LoadAsync(document.SessionId)),
            ("save", () => storage.SaveAsync(new SessionDocument { SessionId = document.SessionId, UserId = "user_disposed", Config = new SessionConfig(), Version = 2 })),
            ("delete", () => storage.DeleteAsync(document.SessionId)),
        })
        {
            var error = await Assert.ThrowsAsync<VoxonStorageException>(call);
            Assert.Equal(operation, error.Operation);
            Assert.Equal(storage.BackendName, error.Backend);
            Assert.Contains("disposed", error.Message, StringComparison.Ordinal);
        }

        await using var fresh = Fixture.Create();
        Assert.NotNull(await fresh.LoadAsync(document.SessionId));
    }

    /// <summary>A backend over the fixture's space; skips the test when the backend is not available here.</summary>
    protected SessionStorage Open(SessionEncryption? encryption = null)
    {
        Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);
        return Fixture.Create(encryption);
    }
}
