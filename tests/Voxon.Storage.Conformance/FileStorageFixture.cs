namespace Voxon.Storage.Conformance;

/// <summary>The file backend in a temporary folder.</summary>
public class FileStorageFixture : StorageFixture
{
    public override string Backend => "file";

    public override string? Target { get; } = Directory.CreateTempSubdirectory("voxon-storage-").FullName;

    public override bool BrokenIsTransient => false;

    public override SessionStorage CreateBroken()
    {
        // A file where the folder should be, put there after the storage is made (which refuses a file): every write
        // fails, even for root.
        var path = Path.Combine(Target!, "not-a-folder");
        var storage = new FileSessionStorage(path);
        File.WriteAllText(path, "x");
        return storage;
    }

    public override async Task<byte[]> ReadRawAsync()
    {
        using var all = new MemoryStream();
        foreach (var file in Directory.EnumerateFiles(Target!, "*", SearchOption.AllDirectories))
        {
            await all.WriteAsync(await File.ReadAllBytesAsync(file));
        }

        return all.ToArray();
    }

    public override async Task<StoredCopy> CopySessionAsync(string sessionId)
    {
        var files = new List<(string Path, byte[] Bytes)>();
        foreach (var extension in new[] { ".json", ".journal", ".lock" })
        {
            var path = Path.Combine(Target!, sessionId + extension);
            if (File.Exists(path))
            {
                files.Add((path, await File.ReadAllBytesAsync(path)));
            }
        }

        return new StoredCopy([.. files.SelectMany(f => f.Bytes)], async () =>
        {
            foreach (var (path, bytes) in files)
            {
                await File.WriteAllBytesAsync(path, bytes);
            }
        });
    }

    public override async Task TamperAsync(string sessionId)
    {
        var path = Path.Combine(Target!, sessionId + ".json");
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x20;
        await File.WriteAllBytesAsync(path, bytes);
    }

    public override async Task<bool> BreakSummaryAsync(string sessionId)
    {
        await File.WriteAllTextAsync(Path.Combine(Target!, sessionId + ".lock"), "{ not json");
        await File.WriteAllTextAsync(Path.Combine(Target!, sessionId + ".json"), "{ not json either");
        return true;
    }

    public override async Task TamperShareAsync(string tokenHash)
    {
        var path = Path.Combine(Target!, "shares", tokenHash + ".json");
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[0] = 0; // neither JSON nor an encryption envelope
        await File.WriteAllBytesAsync(path, bytes);
    }

    public override async Task DeleteLastRecordAsync(string sessionId, string kind)
    {
        var journal = Path.Combine(Target!, sessionId + ".journal");
        var bytes = await File.ReadAllBytesAsync(journal);
        await File.WriteAllBytesAsync(journal, bytes[..(int)JournalDamage.FrameStarts(bytes)[^1]]);
    }

    public override Task<string> DamageAsync(string sessionId, Random random)
    {
        var journal = Path.Combine(Target!, sessionId + ".journal");
        var target = File.Exists(journal) && random.Next(4) > 0 ? journal : Path.Combine(Target!, sessionId + ".json");
        return JournalDamage.ApplyAsync(target, random);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(Target!, recursive: true);
    }
}
