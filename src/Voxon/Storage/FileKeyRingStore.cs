namespace Voxon.Storage;

/// <summary>The file backend's key ring: one file per entry in the <c>keyring</c> subfolder, written to a temporary
/// file, fsynced and renamed; an entry is added with a rename that never replaces, so two processes agree on one.</summary>
internal sealed class FileKeyRingStore(string folder) : KeyRingStore
{
    private const string Extension = ".key";

    /// <summary>The folder the entries live in.</summary>
    public string Folder { get; } = Path.Combine(folder, "keyring");

    public override async Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            return await File.ReadAllBytesAsync(PathOf(name), cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public override async Task<byte[]> GetOrAddAsync(string name, byte[] value, CancellationToken cancellationToken = default)
    {
        var temp = await DurableFolder.WriteTempAsync(PathOf(name), value, cancellationToken);
        try
        {
            File.Move(temp, PathOf(name), overwrite: false);
        }
        catch (IOException) when (File.Exists(PathOf(name)))
        {
            File.Delete(temp);
            return await GetAsync(name, cancellationToken) ?? throw new IOException($"key ring entry '{name}' vanished while being added");
        }

        DurableFolder.Flush(Folder); // data sealed with this key is about to be stored
        return value;
    }

    public override async Task SetAsync(string name, byte[] value, CancellationToken cancellationToken = default) =>
        DurableFolder.Commit(await DurableFolder.WriteTempAsync(PathOf(name), value, cancellationToken), PathOf(name));

    public override Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = PathOf(name);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }

        File.Delete(path);
        DurableFolder.Flush(Folder); // an erased user's key must stay erased after a power loss
        return Task.FromResult(true);
    }

    public override Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> names = Directory.Exists(Folder)
            ? [.. Directory.EnumerateFiles(Folder, prefix + "*" + Extension).Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal)]
            : [];
        return Task.FromResult(names);
    }

    private string PathOf(string name) => Path.Combine(Folder, SessionIds.Validate(name, "key ring entry") + Extension);
}
