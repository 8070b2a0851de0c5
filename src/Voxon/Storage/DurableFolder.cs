using System.Runtime.InteropServices;

namespace Voxon.Storage;

/// <summary>
/// Makes a folder's entries durable: on Linux and macOS a rename, a new file or a deletion is an entry of its
/// folder, which the file's own fsync does not cover (POSIX). Without it, a save acknowledged after renaming its new
/// snapshot into place could come back after a power loss as the older snapshot, the save that wrote the new one lost
/// (its changes are in no journal), and an erased session or key could come back.
/// </summary>
/// <remarks>Nothing is done on Windows, where .NET cannot open a folder to flush it.</remarks>
internal static class DurableFolder
{
    /// <summary>Creates <paramref name="folder"/> and its missing parents, each one's entry in its parent flushed to disk
    /// (a storage folder made by the first save must outlive a power loss with it).</summary>
    /// <exception cref="IOException">A folder could not be made or flushed.</exception>
    public static void Create(string folder)
    {
        folder = Path.GetFullPath(folder);
        if (Directory.Exists(folder))
        {
            return;
        }

        var parent = Path.GetDirectoryName(folder);
        if (parent is not null)
        {
            Create(parent);
        }

        Directory.CreateDirectory(folder);
        if (parent is not null)
        {
            Flush(parent);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> beside <paramref name="path"/> under a fresh temporary name (its folder made
    /// with <see cref="Create"/>), flushed to disk; returns that name, for <see cref="Commit"/>. A failed write leaves
    /// no temporary file.</summary>
    public static async Task<string> WriteTempAsync(string path, byte[] bytes, CancellationToken cancellationToken)
    {
        Create(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            await using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            await stream.WriteAsync(bytes, cancellationToken);
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        return temp;
    }

    /// <summary>Renames <paramref name="temp"/> (from <see cref="WriteTempAsync"/>) to <paramref name="path"/>, replacing
    /// it, and flushes the rename: after this the new content outlives a power loss.</summary>
    public static void Commit(string temp, string path)
    {
        File.Move(temp, path, overwrite: true);
        Flush(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Flushes <paramref name="folder"/>'s entries to disk.</summary>
    /// <exception cref="IOException">The folder could not be opened or flushed.</exception>
    public static void Flush(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // .NET opens no folder as a file, so libc does: open read-only (O_RDONLY is 0 everywhere), fsync, close.
        var fd = Open(folder, 0);
        if (fd < 0)
        {
            throw new IOException($"could not open folder '{folder}' to flush it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            // Some file systems cannot fsync a folder (EINVAL, ENOTSUP): their entries are as durable as they get.
            if (Fsync(fd) != 0 && Marshal.GetLastPInvokeError() is var errno && errno is not (Einval or Enotsup or EnotsupDarwin))
            {
                throw new IOException($"could not flush folder '{folder}' to disk (errno {errno})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private const int Einval = 22;
    private const int Enotsup = 95;
    private const int EnotsupDarwin = 45;

    // DllImport rather than LibraryImport, whose generated code needs unsafe blocks in the whole library.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
