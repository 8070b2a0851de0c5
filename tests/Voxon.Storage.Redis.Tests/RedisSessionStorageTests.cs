using StackExchange.Redis;
using Voxon.Storage.Conformance;

namespace Voxon.Storage.Redis.Tests;

/// <summary>Redis at <c>VOXON_TEST_REDIS</c>, under a key prefix of its own.</summary>
public sealed class RedisFixture : StorageFixture
{
    public override string Backend => "redis";

    public override string? Target => Environment.GetEnvironmentVariable(Variable);

    protected override string Variable => "VOXON_TEST_REDIS";

    public override SessionStorage CreateBroken() => RedisStorage.Create(new RedisStorageOptions { Configuration = "redis://127.0.0.1:1" });

    public override async Task<byte[]> ReadRawAsync()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(RedisStorage.Parse(Target!));
        var db = connection.GetDatabase();
        var bytes = new List<byte>();
        foreach (var key in connection.GetServers()[0].Keys(pattern: Space + "*"))
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
        await using var connection = await ConnectionMultiplexer.ConnectAsync(RedisStorage.Parse(Target!));
        await connection.GetDatabase().HashSetAsync($"{Space}s:{{{sessionId}}}", "created", "yesterday");
        return true;
    }

    public override async Task TamperShareAsync(string tokenHash)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(RedisStorage.Parse(Target!));
        var db = connection.GetDatabase();
        var value = (byte[])(await db.StringGetAsync($"{Space}share:{tokenHash}"))!;
        value[0] = 0; // neither JSON nor an encryption envelope
        await db.StringSetAsync($"{Space}share:{tokenHash}", value);
    }

    /// <summary>Sets or removes (null) one field of a stored session's hashes.</summary>
    public async Task SetFieldAsync(string sessionId, string suffix, string field, RedisValue value)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(RedisStorage.Parse(Target!));
        var db = connection.GetDatabase();
        var key = $"{Space}s:{{{sessionId}}}{suffix}";
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
        await using var connection = await ConnectionMultiplexer.ConnectAsync(RedisStorage.Parse(Target!));
        var db = connection.GetDatabase();
        var key = $"{Space}s:{{{sessionId}}}:{(kind == "turn" ? "t" : "m")}";
        var fields = (await db.HashKeysAsync(key)).Select(f => (string)f!).ToList();
        var last = kind == "turn" ? fields.MaxBy(f => int.Parse(f[(f.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture))! : fields[0];
        Assert.True(await db.HashDeleteAsync(key, last));
    }

    public override async Task<string> DamageAsync(string sessionId, Random random)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(RedisStorage.Parse(Target!));
        var db = connection.GetDatabase();
        var head = $"{Space}s:{{{sessionId}}}";

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
        await using var connection = await ConnectionMultiplexer.ConnectAsync(RedisStorage.Parse(Target!));
        var db = connection.GetDatabase();
        var head = $"{Space}s:{{{sessionId}}}";
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
            await using var restoring = await ConnectionMultiplexer.ConnectAsync(RedisStorage.Parse(Target!));
            var target = restoring.GetDatabase();
            foreach (var (key, dump) in dumps)
            {
                await target.ExecuteAsync("RESTORE", key, 0, dump, "REPLACE");
            }

            await target.SortedSetAddAsync($"{Space}u:{user}", sessionId, 0);
            await target.SortedSetAddAsync($"{Space}sessions", sessionId, 0);
        });
    }

    public override async Task TamperAsync(string sessionId)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(RedisStorage.Parse(Target!));
        var db = connection.GetDatabase();
        var key = $"{Space}s:{{{sessionId}}}:m";
        var entry = (await db.HashGetAllAsync(key))[0];
        var value = (byte[])entry.Value!;
        value[^3] ^= 1;
        await db.HashSetAsync(key, entry.Name, value);
    }
}

public sealed class RedisSessionStorageTests(RedisFixture fixture) : SessionStorageTests<RedisFixture>(fixture)
{
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

public sealed class RedisProcessTests(RedisFixture fixture) : StorageProcessTests<RedisFixture>(fixture);
