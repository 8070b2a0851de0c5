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
}
