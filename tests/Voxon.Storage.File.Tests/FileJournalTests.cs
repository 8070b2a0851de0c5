using Voxon.Storage.Worker;

namespace Voxon.Storage.File.Tests;

/// <summary>What only the file backend has: the journal beside the snapshot.</summary>
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
