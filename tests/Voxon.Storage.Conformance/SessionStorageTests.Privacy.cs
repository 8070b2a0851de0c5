using System.Text;
using Voxon.Sharing;
using Voxon.Storage.Worker;
using Voxon.Templates;

namespace Voxon.Storage.Conformance;

/// <summary>Per-user erasure, crypto-shredding and the key ring, on every backend.</summary>
public abstract partial class SessionStorageTests<TFixture>
{
    [SkippableFact]
    public virtual async Task Erasing_one_user_among_many_removes_all_of_theirs_and_nothing_else()
    {
        await using var space = await IsolatedSpaceAsync();
        var storage = space.Fixture.Create();
        await using var client = WorkerStorage.Client(storage);
        var users = Enumerable.Range(0, 6).Select(i => $"user_many{i}_{space.Fixture.Space}").ToList();
        var victim = users[2];
        var sessions = new Dictionary<string, List<string>>();
        await client.RegisterTemplateAsync(new SessionTemplate("intake_" + space.Fixture.Space, requiredContext: ["clinic"]));

        // Interleaved: every user's n-th session is saved before anyone's (n+1)-th.
        for (var round = 0; round < 3; round++)
        {
            foreach (var user in users)
            {
                var session = round == 0
                    ? await client.CreateSessionFromTemplateAsync("intake_" + space.Fixture.Space, new Dictionary<string, string> { ["clinic"] = "north" }, user)
                    : await client.CreateSessionAsync(user);
                await session.AddMemoryAsync($"{user} secret symptom {round} {Secret}");
                await (await session.StartConversationAsync()).SendMessageAsync($"{user} says round {round}");
                await session.SaveAsync();
                if (round == 1)
                {
                    await session.CreateSharedViewAsync(users[(users.IndexOf(user) + 1) % users.Count], [SharePermissions.Read], TimeSpan.FromDays(1));
                }

                sessions.TryAdd(user, []);
                sessions[user].Add(session.SessionId);
            }
        }

        var receipt = await client.EraseUserAsync(victim);
        Assert.False(receipt.Resumed);
        Assert.Equal(storage.BackendName, receipt.Backend);
        Assert.Equal(victim, receipt.UserId);
        Assert.Equal(3, receipt[ErasureReceipt.Sessions]);
        Assert.Equal(3, receipt[ErasureReceipt.Memories]);
        Assert.Equal(3, receipt[ErasureReceipt.Conversations]);
        Assert.Equal(6, receipt[ErasureReceipt.Turns]);
        Assert.Equal(1, receipt[ErasureReceipt.Shares]);
        Assert.Equal(1, receipt[ErasureReceipt.SharesReceived]);
        Assert.Equal(1, receipt[ErasureReceipt.TemplateBindings]);
        Assert.True(receipt.CompletedAt >= receipt.StartedAt);

        Assert.Empty(await storage.ListAsync(victim));
        foreach (var id in sessions[victim])
        {
            Assert.Null(await storage.LoadAsync(id));
            Assert.Empty(await storage.ListSharesAsync(id));
        }

        var raw = Encoding.UTF8.GetString(await space.Fixture.ReadRawAsync());
        Assert.DoesNotContain(victim + " secret", raw, StringComparison.Ordinal);
        Assert.DoesNotContain(victim + " says", raw, StringComparison.Ordinal);
        foreach (var user in users.Where(u => u != victim))
        {
            Assert.Contains(user + " secret symptom 2", raw, StringComparison.Ordinal);
            Assert.Equal(sessions[user].Order(), (await storage.ListAsync(user)).Select(s => s.SessionId).Order());
            foreach (var id in sessions[user])
            {
                var other = (await storage.LoadAsync(id))!;
                Assert.Single(other.Memory.Entries);
                Assert.Equal(2, other.Conversations.Single().Turns.Count);
            }

            // The share granted to the victim went with the victim; the others' shares stay.
            var shares = await storage.ListSharesAsync(sessions[user][1]);
            Assert.Equal(user == users[1] ? 0 : 1, shares.Count);
            Assert.DoesNotContain(shares, s => s.SharedWithUserId == victim);
        }

        // The template itself belongs to no user and stays.
        Assert.NotNull(await storage.LoadTemplateAsync("intake_" + space.Fixture.Space));
        var again = await client.EraseUserAsync(victim);
        Assert.True(again.NothingErased);
        Assert.False(again.Resumed);
    }

    [SkippableFact]
    public virtual async Task Erasure_removes_a_users_sessions_that_are_too_damaged_to_list()
    {
        await using var space = await IsolatedSpaceAsync();
        var storage = space.Fixture.Create();
        await using var client = WorkerStorage.Client(storage);
        var victim = "user_damaged_" + space.Fixture.Space;
        var journaled = await client.CreateSessionAsync(victim);
        await journaled.AddMemoryAsync(victim + " secret first " + Secret);
        await journaled.SaveAsync();
        await journaled.AddMemoryAsync(victim + " secret second " + Secret);
        await journaled.SaveAsync();
        var summarized = await client.CreateSessionAsync(victim);
        await summarized.AddMemoryAsync(victim + " secret third " + Secret);
        await summarized.SaveAsync();

        // A lost last save, and a damaged listing entry: either can make a listing skip the session.
        await space.Fixture.DeleteLastRecordAsync(journaled.SessionId, "memory");
        await space.Fixture.BreakSummaryAsync(summarized.SessionId);
        await client.EraseUserAsync(victim);

        Assert.Null(await storage.LoadAsync(journaled.SessionId));
        Assert.Empty(await storage.ListAsync(victim));
        Assert.DoesNotContain(victim + " secret", Encoding.UTF8.GetString(await space.Fixture.ReadRawAsync()), StringComparison.Ordinal);
    }

    [SkippableFact]
    public virtual async Task Copy_taken_before_erasure_no_longer_decrypts_after_it()
    {
        await using var space = await IsolatedSpaceAsync();
        var storage = space.Fixture.Create(SessionEncryption.FromKey(Key1));
        await using var client = WorkerStorage.Client(storage);
        var victim = "user_shred_" + space.Fixture.Space;
        var session = await client.CreateSessionAsync(victim);
        await session.AddMemoryAsync("Diagnosis: " + Secret);
        await (await session.StartConversationAsync()).SendMessageAsync("My diagnosis is " + Secret);
        await session.SaveAsync();
        var survivor = await client.CreateSessionAsync("user_survivor_" + space.Fixture.Space);
        await survivor.AddMemoryAsync("survivor fact");
        await survivor.SaveAsync();

        var backup = await space.Fixture.CopySessionAsync(session.SessionId);
        Assert.NotEmpty(backup.Bytes);
        Assert.DoesNotContain(Secret, Encoding.UTF8.GetString(backup.Bytes), StringComparison.Ordinal);
        var before = await client.EraseUserAsync(victim);
        Assert.Equal(1, before[ErasureReceipt.Keys]);

        // The backup is put back: with the master key and the key ring as they now are, it does not open.
        await backup.RestoreAsync();
        var fresh = space.Fixture.Create(SessionEncryption.FromKey(Key1));
        var error = await Assert.ThrowsAsync<SessionCorruptException>(() => fresh.LoadAsync(session.SessionId));
        Assert.Contains("erased", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, Encoding.UTF8.GetString(await space.Fixture.ReadRawAsync()), StringComparison.Ordinal);
        Assert.Equal("survivor fact", (await fresh.LoadAsync(survivor.SessionId))!.Memory.Entries.Single().Content);

        // Erasing again removes the restored copy, which can no longer be counted beyond its session.
        var cleanup = await client.EraseUserAsync(victim);
        Assert.Equal(1, cleanup[ErasureReceipt.Sessions]);
        Assert.Null(await fresh.LoadAsync(session.SessionId));
    }

    [SkippableFact]
    public virtual async Task Master_key_rotation_rewraps_user_keys_and_leaves_data_as_it_is()
    {
        await using var space = await IsolatedSpaceAsync();
        var storage = space.Fixture.Create(SessionEncryption.FromKey(Key1));
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_rewrap_" + space.Fixture.Space);
        await session.AddMemoryAsync("rewrap me");
        await session.SaveAsync();
        var data = (await space.Fixture.CopySessionAsync(session.SessionId)).Bytes;

        var rotated = space.Fixture.Create(SessionEncryption.FromKey(Key2, Key1));
        Assert.True(await rotated.RewrapKeysAsync() >= 1);
        Assert.Equal(0, await rotated.RewrapKeysAsync());
        Assert.Equal(data, (await space.Fixture.CopySessionAsync(session.SessionId)).Bytes);

        // The old master key alone no longer opens the user's key; the new one alone does.
        var newOnly = space.Fixture.Create(SessionEncryption.FromKey(Key2));
        Assert.Equal("rewrap me", (await newOnly.LoadAsync(session.SessionId))!.Memory.Entries.Single().Content);
        var oldOnly = await Assert.ThrowsAsync<SessionCorruptException>(() => space.Fixture.Create(SessionEncryption.FromKey(Key1)).LoadAsync(session.SessionId));
        Assert.Contains("not configured", oldOnly.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public virtual async Task Store_encrypted_with_the_old_sha256_passphrase_derivation_still_opens()
    {
        // Versions before the key ring sealed records with SHA-256("voxon-session-key:" + passphrase) directly.
        await using var space = await IsolatedSpaceAsync();
        var legacy = LegacyLayout();
        var old = space.Fixture.Create(legacy);
        await using var oldClient = WorkerStorage.Client(old);
        var session = await oldClient.CreateSessionAsync("user_legacy_" + space.Fixture.Space);
        await session.AddMemoryAsync("sealed the old way " + Secret);
        await session.SaveAsync();
        Assert.Contains(Envelope(legacy.KeyId), Encoding.Latin1.GetString((await space.Fixture.CopySessionAsync(session.SessionId)).Bytes), StringComparison.Ordinal);

        var current = space.Fixture.Create(SessionEncryption.FromKey(Key1));
        await using var client = WorkerStorage.Client(current);
        var loaded = await client.LoadSessionAsync(session.SessionId);
        Assert.Contains(Secret, loaded.GetMemory().Entries.Single().Content, StringComparison.Ordinal);
        await loaded.AddMemoryAsync("sealed the new way");
        await loaded.SaveAsync();

        // Saving moved the session to the user's data key: the legacy key alone cannot read it any more.
        var copy = Encoding.Latin1.GetString((await space.Fixture.CopySessionAsync(session.SessionId)).Bytes);
        Assert.DoesNotContain(Envelope(legacy.KeyId), copy, StringComparison.Ordinal);
        Assert.Contains(Envelope("u"), copy, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SessionCorruptException>(() => space.Fixture.Create(LegacyLayout()).LoadAsync(session.SessionId));
        Assert.Equal(2, (await space.Fixture.Create(SessionEncryption.FromKey(Key1)).LoadAsync(session.SessionId))!.Memory.Entries.Count);
    }

    /// <summary>A space of its own (folder, schema, key prefix): these tests change the key ring, which other tests share.</summary>
    private async Task<IsolatedSpace> IsolatedSpaceAsync()
    {
        Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);
        var fixture = Activator.CreateInstance<TFixture>();
        await fixture.InitializeAsync();
        return new IsolatedSpace(fixture);
    }

    /// <summary>An isolated fixture, disposed with the test.</summary>
    protected sealed class IsolatedSpace(TFixture fixture) : IAsyncDisposable
    {
        public TFixture Fixture { get; } = fixture;

        public async ValueTask DisposeAsync() => await Fixture.DisposeAsync();
    }

    /// <summary>The start of an envelope whose key id starts with <paramref name="keyIdStart"/> (data key ids are 17 characters).</summary>
    private static string Envelope(string keyIdStart) => "VXE1" + (char)(keyIdStart == "u" ? 17 : keyIdStart.Length) + keyIdStart;

    /// <summary>The key and record layout of versions before the key ring: every record under the SHA-256-derived key.</summary>
    private static SessionEncryption LegacyLayout()
    {
        var encryption = SessionEncryption.FromKey(Convert.ToHexString(SessionEncryption.LegacyPassphraseKey(Key1)));
        encryption.WithoutKeyRing = true;
        return encryption;
    }
}
