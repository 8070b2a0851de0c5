using StackExchange.Redis;
using Voxon.Sessions;
using Voxon.Storage.Conformance;

namespace Voxon.Storage.Redis.Tests;

/// <summary>Redis at <c>VOXON_TEST_REDIS</c>, under a key prefix of its own.</summary>
public class RedisFixture : StorageFixture
{
    public override string Backend => "redis";

    public override string? Target => Environment.GetEnvironmentVariable(Variable);

    protected override string Variable => "VOXON_TEST_REDIS";

    /// <summary>The fixture's key names.</summary>
    internal RedisKeys Keys => new(Space);

    public override SessionStorage CreateBroken() => RedisStorage.Create(new RedisStorageOptions { Configuration = "redis://127.0.0.1:1" });

    /// <summary>A connection to the server or cluster (it follows cluster redirects).</summary>
    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(RedisStorage.Parse(Target!));

    /// <summary>Every key under <paramref name="pattern"/>, on every primary.</summary>
    public static List<RedisKey> KeysOf(ConnectionMultiplexer connection, string pattern) =>
        [.. connection.GetServers().Where(s => !s.IsReplica).SelectMany(s => s.Keys(pattern: pattern))];

    /// <summary>The head key of a stored session, under the user its locator names.</summary>
    public async Task<string> HeadAsync(IDatabase db, string sessionId) =>
        Keys.Head((string)(await db.StringGetAsync(Keys.SessionUser(sessionId)))!, sessionId)!;

    public override async Task<byte[]> ReadRawAsync()
    {
        await using var connection = await ConnectAsync();
        var db = connection.GetDatabase();
        var bytes = new List<byte>();
        foreach (var key in KeysOf(connection, Space + "*"))
        {
            var values = await db.KeyTypeAsync(key) switch
            {
                RedisType.Hash => (await db.HashGetAllAsync(key)).SelectMany(e => new[] { e.Name, e.Value }),
                RedisType.String => [await db.StringGetAsync(key)],
                RedisType.Set => await db.SetMembersAsync(key),
                _ => [],
            };
            bytes.AddRange(values.SelectMany(v => (byte[])v!));
        }

        return [.. bytes];
    }

    public override async Task<bool> BreakSummaryAsync(string sessionId)
    {
        await using var connection = await ConnectAsync();
        var db = connection.GetDatabase();
        await db.HashSetAsync(await HeadAsync(db, sessionId), "created", "yesterday");
        return true;
    }

    public override async Task TamperShareAsync(string tokenHash)
    {
        await using var connection = await ConnectAsync();
        var db = connection.GetDatabase();
        var key = Keys.Share((string)(await db.StringGetAsync(Keys.ShareUser(tokenHash)))!, tokenHash);
        var value = (byte[])(await db.StringGetAsync(key))!;
        value[0] = 0; // neither JSON nor an encryption envelope
        await db.StringSetAsync(key, value);
    }

    /// <summary>Sets or removes (null) one field of a stored session's hashes.</summary>
    public async Task SetFieldAsync(string sessionId, string suffix, string field, RedisValue value)
    {
        await using var connection = await ConnectAsync();
        var db = connection.GetDatabase();
        var key = await HeadAsync(db, sessionId) + suffix;
        if (value.IsNull)
        {
            await db.HashDeleteAsync(key, field);
        }
        else
        {
            await db.HashSetAsync(key, field, value);
        }
    }

    public override async Task DeleteLastRecordAsync(string sessionId, string kind)
    {
        await using var connection = await ConnectAsync();
        var db = connection.GetDatabase();
        var key = await HeadAsync(db, sessionId) + (kind == "turn" ? ":t" : ":m");
        var fields = (await db.HashKeysAsync(key)).Select(f => (string)f!).ToList();
        var last = kind == "turn" ? fields.MaxBy(f => int.Parse(f[(f.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture))! : fields[0];
        Assert.True(await db.HashDeleteAsync(key, last));
    }

    public override async Task<string> DamageAsync(string sessionId, Random random)
    {
        await using var connection = await ConnectAsync();
        var db = connection.GetDatabase();
        var head = await HeadAsync(db, sessionId);

        // Every stored record of the session; the head may be changed but not deleted.
        var records = new List<(string Key, RedisValue Field)> { (head, "head") };
        foreach (var suffix in new[] { ":m", ":c", ":t" })
        {
            records.AddRange((await db.HashKeysAsync(head + suffix)).Select(f => (head + suffix, f)));
        }

        var (key, field) = records[random.Next(records.Count)];
        if (key != head && random.Next(2) == 0)
        {
            await db.HashDeleteAsync(key, field);
            return $"deleted field {field} of {key}";
        }

        var value = (byte[])(await db.HashGetAsync(key, field))!;
        var at = random.Next(value.Length);
        var mask = (byte)random.Next(1, 256);
        value[at] ^= mask;
        await db.HashSetAsync(key, field, value);
        return $"flipped byte {at} of field {field} of {key} with {mask:x2}";
    }

    public override async Task<StoredCopy> CopySessionAsync(string sessionId)
    {
        await using var connection = await ConnectAsync();
        var db = connection.GetDatabase();
        var head = await HeadAsync(db, sessionId);
        RedisKey[] keys = [head, head + ":m", head + ":c", head + ":t"];
        var dumps = new List<(RedisKey Key, byte[] Dump)>();
        var bytes = new List<byte>();
        foreach (var key in keys)
        {
            if ((byte[]?)await db.KeyDumpAsync(key) is { } dump)
            {
                dumps.Add((key, dump));
                bytes.AddRange((await db.HashGetAllAsync(key)).OrderBy(e => (string)e.Name!, StringComparer.Ordinal).SelectMany(e => (byte[])e.Value!));
            }
        }

        var user = (string)(await db.HashGetAsync(head, "user"))!;
        return new StoredCopy([.. bytes], async () =>
        {
            await using var restoring = await ConnectAsync();
            var target = restoring.GetDatabase();
            foreach (var (key, dump) in dumps)
            {
                await target.ExecuteAsync("RESTORE", key, 0, dump, "REPLACE");
            }

            await target.SortedSetAddAsync(Keys.Sessions(user), sessionId, 0);
            await target.StringSetAsync(Keys.SessionUser(sessionId), user);
            await target.SetAddAsync(Keys.Users, user);
        });
    }

    public override async Task TamperAsync(string sessionId)
    {
        await using var connection = await ConnectAsync();
        var db = connection.GetDatabase();
        var key = await HeadAsync(db, sessionId) + ":m";
        var entry = (await db.HashGetAllAsync(key))[0];
        var value = (byte[])entry.Value!;
        value[^3] ^= 1;
        await db.HashSetAsync(key, entry.Name, value);
    }
}

/// <summary>A three-node Redis Cluster at <c>VOXON_TEST_REDIS_CLUSTER</c> (<c>host:port,host:port,...</c>), the
/// fourth backend of the conformance suite.</summary>
public sealed class RedisClusterFixture : RedisFixture
{
    protected override string Variable => "VOXON_TEST_REDIS_CLUSTER";
}

/// <summary>The conformance suite and the Redis-only tests, on one server or on a cluster.</summary>
public abstract class RedisStorageTests<TFixture>(TFixture fixture) : SessionStorageTests<TFixture>(fixture)
    where TFixture : RedisFixture
{
    [SkippableFact]
    public async Task Warming_up_warns_while_a_primary_could_lose_acknowledged_saves()
    {
        // Redis acknowledges a save from memory: without an append-only file, a stop loses what came after its last
        // snapshot; with one fsynced every second, up to that second. The test servers run without (appendonly no).
        Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);
        var admin = RedisStorage.Parse(Fixture.Target!);
        admin.AllowAdmin = true;
        await using var connection = await ConnectionMultiplexer.ConnectAsync(admin);
        var primaries = connection.GetServers().Where(s => !s.IsReplica).ToList();
        Task<IReadOnlyList<string>> WarmUpAsync() => StorageFixture.WarmUpLogsAsync(Fixture.Create());
        async Task SetAsync(string name, string value)
        {
            foreach (var primary in primaries)
            {
                await primary.ConfigSetAsync(name, value);
            }
        }

        var warned = Assert.Single(await WarmUpAsync(), m => m.StartsWith("Redis may lose acknowledged saves", StringComparison.Ordinal));
        Assert.All(primaries, p => Assert.Contains($"{p.EndPoint} keeps no append-only file", warned, StringComparison.Ordinal));
        try
        {
            await SetAsync("appendonly", "yes");
            await SetAsync("appendfsync", "everysec");
            warned = Assert.Single(await WarmUpAsync(), m => m.StartsWith("Redis may lose acknowledged saves", StringComparison.Ordinal));
            Assert.All(primaries, p => Assert.Contains($"{p.EndPoint} fsyncs its append-only file every second", warned, StringComparison.Ordinal));

            await SetAsync("appendfsync", "always");
            Assert.DoesNotContain(await WarmUpAsync(), m => m.Contains("Redis may lose", StringComparison.Ordinal));
        }
        finally
        {
            await SetAsync("appendonly", "no");
            await SetAsync("appendfsync", "everysec");
        }
    }

    [SkippableTheory]
    [InlineData("", "version", "two")]
    [InlineData(":c", "*", "\u0001")]
    [InlineData(":t", "conv_x/not-a-number", "x")]
    [InlineData(":t", "no-slash", "x")]
    public async Task Every_malformed_field_is_reported_as_a_corrupt_session(string suffix, string field, string value)
    {
        var storage = Open();
        await using var client = Worker.WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_redis_fields");
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("hello");
        await session.SaveAsync();
        await Fixture.SetFieldAsync(session.SessionId, suffix, field == "*" ? conversation.ConversationId : field, value);

        var error = await Assert.ThrowsAsync<SessionCorruptException>(async () =>
        {
            await storage.LoadAsync(session.SessionId);
            await storage.SaveAsync((await storage.LoadAsync(session.SessionId))!);
        });
        Assert.Equal(session.SessionId, error.SessionId);
    }

    [SkippableFact]
    public async Task A_load_of_a_session_the_store_has_seen_does_not_read_its_locator()
    {
        await using var storage = Open();
        var document = new SessionDocument { SessionId = SessionIds.NewSessionId(), UserId = "user_seen", Config = new SessionConfig(), Version = 1 };
        await storage.SaveAsync(document);
        await using var connection = await Fixture.ConnectAsync();
        Assert.True(await connection.GetDatabase().KeyDeleteAsync(Fixture.Keys.SessionUser(document.SessionId)));

        // Without the locator, only a store that saw the session (saved or loaded it) knows under which user to look.
        Assert.Equal("user_seen", (await storage.LoadAsync(document.SessionId))?.UserId);
        Assert.Equal("user_seen", (await storage.LoadMetadataAsync(document.SessionId))?.UserId);
        await using var fresh = Fixture.Create();
        Assert.Null(await fresh.LoadAsync(document.SessionId));
    }

    [SkippableFact]
    public async Task A_session_moved_deleted_or_erased_by_another_store_is_loaded_as_stored_there()
    {
        await using var mine = Open();
        await using var other = Fixture.Create();
        var id = SessionIds.NewSessionId();
        await mine.SaveAsync(new SessionDocument { SessionId = id, UserId = "user_moved_from", Config = new SessionConfig(), Version = 1 });
        Assert.NotNull(await mine.LoadAsync(id));

        await other.SaveAsync(new SessionDocument { SessionId = id, UserId = "user_moved_to", Config = new SessionConfig(), Version = 2 });
        Assert.Equal("user_moved_to", (await mine.LoadAsync(id))?.UserId);

        Assert.True(await other.DeleteAsync(id));
        Assert.Null(await mine.LoadAsync(id));

        await other.SaveAsync(new SessionDocument { SessionId = id, UserId = "user_moved_to", Config = new SessionConfig(), Version = 1 });
        Assert.NotNull(await mine.LoadAsync(id));
        await using var client = Worker.WorkerStorage.Client(other);
        await client.EraseUserAsync("user_moved_to");
        Assert.Null(await mine.LoadAsync(id));
        Assert.Null(await mine.LoadMetadataAsync(id));
    }

    [SkippableFact]
    public async Task A_session_missing_its_user_field_is_reported_not_dropped_from_the_index()
    {
        var storage = Open();
        await using var client = Worker.WorkerStorage.Client(storage);
        var user = "user_missing_" + Guid.NewGuid().ToString("N")[..6];
        var broken = await client.CreateSessionAsync(user);
        await broken.SaveAsync();
        var fine = await client.CreateSessionAsync(user);
        await fine.SaveAsync();
        var skipped = new List<SessionCorruptException>();
        storage.RecordSkipped += (_, e) => skipped.Add(e);
        await Fixture.SetFieldAsync(broken.SessionId, string.Empty, "user", RedisValue.Null);

        Assert.Equal([fine.SessionId], (await storage.ListAsync(user)).Select(s => s.SessionId));
        Assert.Equal(broken.SessionId, Assert.Single(skipped).SessionId);

        // Still indexed: once repaired, it lists again.
        await Fixture.SetFieldAsync(broken.SessionId, string.Empty, "user", user);
        Assert.Equal(2, (await storage.ListAsync(user)).Count);
    }

    [SkippableFact]
    public async Task Every_key_of_a_users_data_carries_the_users_hash_tag()
    {
        var storage = Open();
        await using var client = Worker.WorkerStorage.Client(storage);
        var user = "user_tag_" + Guid.NewGuid().ToString("N")[..6];
        var session = await client.CreateSessionAsync(user);
        await session.AddMemoryAsync("tagged fact");
        await (await session.StartConversationAsync()).SendMessageAsync("hello");
        await session.SaveAsync();
        var share = await session.CreateSharedViewAsync("user_tag_reader", [Sharing.SharePermissions.Read], TimeSpan.FromDays(1));
        await using var connection = await Fixture.ConnectAsync();
        var db = connection.GetDatabase();

        // Under the user's tag: the session's hashes, its share set, the user's index and shares; all in one slot.
        var tagged = RedisFixture.KeysOf(connection, Fixture.Space + "{" + user + "}*");
        Assert.Equal(8, tagged.Count);
        Assert.Single(tagged.Select(k => connection.HashSlot(k)).Distinct());

        // Outside it only single keys that hold no content: the locators and the set of users.
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(share.Token)));
        Assert.Equal(user, (string?)await db.StringGetAsync(Fixture.Keys.SessionUser(session.SessionId)));
        Assert.Equal(user, (string?)await db.StringGetAsync(Fixture.Keys.ShareUser(hash)));
        Assert.True(await db.SetContainsAsync(Fixture.Keys.Users, user));
    }

    [SkippableFact]
    public async Task A_store_of_the_old_key_layout_moves_to_per_user_tags_in_place_on_open()
    {
        Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);
        var key = SessionEncryption.FromKey("layout migration key");
        var source = new RedisKeys(Fixture.Space + "src:");
        var legacy = Fixture.Space + "old:";
        var saved = new List<SessionDocument>();
        var hashes = new List<string>();
        await using (var storage = RedisStorage.Create(new RedisStorageOptions { Configuration = Fixture.Target!, KeyPrefix = source.Prefix, Encryption = key }))
        {
            await using var client = Worker.WorkerStorage.Client(storage);
            for (var u = 0; u < 3; u++)
            {
                var session = await client.CreateSessionAsync($"user_layout_{u}");
                await session.AddMemoryAsync($"user {u} keeps bees number {u}");
                await (await session.StartConversationAsync()).SendMessageAsync($"hello from user {u}");
                await session.SaveAsync();
                var share = await session.CreateSharedViewAsync("user_layout_reader", [Sharing.SharePermissions.Read], TimeSpan.FromDays(1));
                hashes.Add(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(share.Token))));
                saved.Add((await storage.LoadAsync(session.SessionId))!);
            }

            await storage.SaveTemplateAsync(new TemplateDocument { Name = "tpl_layout", BaseConfig = new Sessions.SessionConfig { Instructions = "Be brief" } });
        }

        // The same data under the names of layout 1: a hash tag per session, global and per-user indexes, loose shares.
        await using var connection = await Fixture.ConnectAsync();
        var db = connection.GetDatabase();
        async Task Copy(RedisKey from, RedisKey to)
        {
            if ((byte[]?)await db.KeyDumpAsync(from) is { } dump)
            {
                await db.ExecuteAsync("RESTORE", to, 0, dump, "REPLACE");
            }
        }

        foreach (var (document, i) in saved.Select((d, i) => (d, i)))
        {
            var old = RedisKeys.Legacy.Head(legacy, document.SessionId);
            foreach (var suffix in new[] { "", ":m", ":c", ":t", ":shares" })
            {
                await Copy(source.Head(document.UserId, document.SessionId).Append(suffix), old.Append(suffix));
            }

            await Copy(source.Share(document.UserId, hashes[i]), RedisKeys.Legacy.Share(legacy, hashes[i]));
            await db.SortedSetAddAsync(RedisKeys.Legacy.UserIndex(legacy, document.UserId), document.SessionId, i);
            await db.SortedSetAddAsync(RedisKeys.Legacy.Sessions(legacy), document.SessionId, i);
        }

        // A share its session does not list (a crash between the two writes of layout 1): its owner comes from the record.
        await db.SetRemoveAsync(RedisKeys.Legacy.Head(legacy, saved[2].SessionId).Append(":shares"), hashes[2]);
        await Copy(source.Template("tpl_layout"), RedisKeys.Legacy.Template(legacy, "tpl_layout"));
        await db.SetAddAsync(RedisKeys.Legacy.Templates(legacy), "tpl_layout");
        await Copy(source.KeyRing, new RedisKeys(legacy).KeyRing);

        await using (var storage = RedisStorage.Create(new RedisStorageOptions { Configuration = Fixture.Target!, KeyPrefix = legacy, Encryption = key }))
        {
            foreach (var (document, i) in saved.Select((d, i) => (d, i)))
            {
                var loaded = (await storage.LoadAsync(document.SessionId))!;
                Assert.Equal(SessionDocumentSerializer.Serialize(document), SessionDocumentSerializer.Serialize(loaded));
                Assert.Equal(document.SessionId, Assert.Single(await storage.ListAsync(document.UserId)).SessionId);
                Assert.Equal(document.SessionId, (await storage.FindShareAsync(hashes[i]))!.SessionId);
            }

            Assert.Equal(3, (await storage.ListAsync()).Count);
            Assert.Equal(hashes[0], Assert.Single(await storage.ListSharesAsync(saved[0].SessionId)).TokenHash);
            Assert.Equal("Be brief", (await storage.LoadTemplateAsync("tpl_layout"))!.BaseConfig.Instructions);
            Assert.Equal(["tpl_layout"], await storage.ListTemplatesAsync());

            // Saves and erasure work on the moved keys.
            await using var client = Worker.WorkerStorage.Client(storage);
            var session = await client.LoadSessionAsync(saved[1].SessionId);
            await session.AddMemoryAsync("added after the move");
            await session.SaveAsync();
            Assert.Contains((await storage.LoadAsync(saved[1].SessionId))!.Memory.Entries, e => e.Content == "added after the move");
            Assert.Equal(1, (await storage.EraseUserAsync(saved[0].UserId)).Counts[ErasureReceipt.Sessions]);
            Assert.Null(await storage.FindShareAsync(hashes[0]));
        }

        // Nothing is left under the old names, and the store says which layout it uses.
        foreach (var pattern in new[] { RedisKeys.Legacy.HeadPattern(legacy) + "*", RedisKeys.Legacy.UserIndexPattern(legacy), RedisKeys.Legacy.SharePattern(legacy), legacy + "template*", legacy + "sessions" })
        {
            Assert.Empty(RedisFixture.KeysOf(connection, pattern));
        }

        Assert.Equal(RedisKeys.CurrentLayout, (string?)await db.StringGetAsync(new RedisKeys(legacy).Layout));
    }

    [SkippableFact]
    public async Task Idle_sessions_expire_after_the_ttl()
    {
        Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);
        await using var storage = RedisStorage.Create(new RedisStorageOptions { Configuration = Fixture.Target!, KeyPrefix = Fixture.Space + "ttl:", IdleTtl = TimeSpan.FromMilliseconds(300) });
        await using var client = Worker.WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_ttl");
        await session.AddMemoryAsync("short-lived");
        await session.SaveAsync();
        Assert.NotNull(await storage.LoadAsync(session.SessionId));
        await Task.Delay(800);
        Assert.Null(await storage.LoadAsync(session.SessionId));
        Assert.Empty(await storage.ListAsync("user_ttl"));
    }
}

public sealed class RedisSessionStorageTests(RedisFixture fixture) : RedisStorageTests<RedisFixture>(fixture);

public sealed class RedisClusterSessionStorageTests(RedisClusterFixture fixture) : RedisStorageTests<RedisClusterFixture>(fixture);

public sealed class RedisProcessTests(RedisFixture fixture) : StorageProcessTests<RedisFixture>(fixture);

public sealed class RedisClusterProcessTests(RedisClusterFixture fixture) : StorageProcessTests<RedisClusterFixture>(fixture);
