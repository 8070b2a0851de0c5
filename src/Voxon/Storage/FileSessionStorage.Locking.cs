using System.Text.Json;

namespace Voxon.Storage;

public sealed partial class FileSessionStorage
{
    /// <summary>Opens the session's lock file exclusively (an OS lock other processes see), waiting for another holder.</summary>
    private async Task<FileStream> LockAsync(string id, string operation, CancellationToken cancellationToken)
    {
        ThrowIfDisposed(operation, id);
        var path = PathOf(id, LockExtension);
        // A timeout measured on the monotonic clock, not a wall-clock instant.
        var started = TimeProvider.System.GetTimestamp();
        var delay = 1;
        try
        {
            DurableFolder.Create(_folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure(operation, id, _folder, ex);
        }

        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException ex) when (IsSharingViolation(ex) && TimeProvider.System.GetElapsedTime(started) < LockTimeout)
            {
                // Held by another save (in this process or another): wait and retry.
                await Task.Delay(delay, cancellationToken);
                delay = Math.Min(delay * 2, 20);
            }
            catch (IOException ex) when (IsSharingViolation(ex))
            {
                throw new VoxonStorageException(BackendName, operation, id, $"the session stayed locked by another save for {LockTimeout.TotalSeconds:0.#} s ('{path}')", true, ex);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Failure(operation, id, path, ex);
            }
        }
    }

    /// <summary>Whether opening failed because another handle holds the file exclusively: ERROR_SHARING_VIOLATION (32)
    /// on Windows; on Unix .NET reports the held lock with errno EWOULDBLOCK (11 on Linux, 35 on macOS).</summary>
    private static bool IsSharingViolation(IOException ex) =>
        ex.GetType() == typeof(IOException) && ((ex.HResult & 0xFFFF) == 32 || (!OperatingSystem.IsWindows() && ex.HResult is 11 or 35));

    /// <summary>Opens the session's lock file shared, so no save runs while a load reads the files; null when the
    /// session has no lock file. Waits while a save holds it.</summary>
    private async Task<FileStream?> SharedLockAsync(string id, CancellationToken cancellationToken)
    {
        ThrowIfDisposed("load", id);
        var path = PathOf(id, LockExtension);
        var started = TimeProvider.System.GetTimestamp();
        var delay = 1;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }
            catch (IOException ex) when (IsSharingViolation(ex) && TimeProvider.System.GetElapsedTime(started) < LockTimeout)
            {
                await Task.Delay(delay, cancellationToken);
                delay = Math.Min(delay * 2, 20);
            }
            catch (IOException ex) when (IsSharingViolation(ex))
            {
                throw new VoxonStorageException(BackendName, "load", id, $"the session stayed locked by a save for {LockTimeout.TotalSeconds:0.#} s ('{path}')", true, ex);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Failure("load", id, path, ex);
            }
        }
    }

    /// <summary>The stored state; when the lock file does not match the files (a crash between writes), replays them,
    /// cuts a torn journal tail (or a journal a snapshot replaced) so later frames are reachable, and records the state
    /// again. The lock file's version is still the floor: files holding less are corrupt, not a crash. Caller holds the lock.</summary>
    private async Task<FileSessionState> CurrentStateAsync(FileStream handle, string id, CancellationToken cancellationToken)
    {
        var state = await ReadStateAsync(handle, cancellationToken);
        if (state is not null && Matches(id, state))
        {
            return state;
        }

        var (document, validJournal, snapshotLength) = await ReadSessionAsync(id, "save", state?.Version ?? 0, cancellationToken);
        var journal = PathOf(id, JournalExtension);
        if (File.Exists(journal) && new FileInfo(journal).Length != validJournal)
        {
            try
            {
                await using var stream = new FileStream(journal, FileMode.Open, FileAccess.Write, FileShare.Read);
                stream.SetLength(validJournal);
                stream.Flush(flushToDisk: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Failure("save", id, journal, ex);
            }
        }

        state = document is null ? new FileSessionState() : FileSessionState.Of(document, snapshotLength, validJournal);
        await WriteStateAsync(handle, state, cancellationToken);
        return state;
    }

    private bool Matches(string id, FileSessionState state) =>
        LengthOf(PathOf(id, Extension)) == state.SnapshotLength && LengthOf(PathOf(id, JournalExtension)) == state.JournalLength;

    private static long LengthOf(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? info.Length : 0;
    }

    private static async Task WriteStateAsync(FileStream handle, FileSessionState state, CancellationToken cancellationToken)
    {
        // Not fsynced: the state is checked against the files' sizes and rebuilt when it does not match.
        var bytes = JsonSerializer.SerializeToUtf8Bytes(state, VoxonJsonContext.Default.FileSessionState);
        handle.Position = 0;
        await handle.WriteAsync(bytes, cancellationToken);
        handle.SetLength(bytes.Length);
        await handle.FlushAsync(cancellationToken);
    }

    private async Task WriteAtomicallyAsync(string path, byte[] bytes, string operation, string? sessionId, CancellationToken cancellationToken)
    {
        string? temp = null;
        try
        {
            temp = await DurableFolder.WriteTempAsync(path, bytes, cancellationToken);
            BeforeCommit?.Invoke(temp);
            DurableFolder.Commit(temp, path); // the rename flushed, before the write is acknowledged
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw Failure(operation, sessionId, path, ex);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private Task<byte[]?> ReadIfExistsAsync(string path, string operation, string? sessionId, CancellationToken cancellationToken) =>
        Task.FromResult(ReadIfExists(path, operation, sessionId, cancellationToken));

    private byte[]? ReadIfExists(string path, string operation, string? sessionId, CancellationToken cancellationToken)
    {
        try
        {
            // Synchronous: a local file read from the page cache takes less than the thread-pool hop an async read costs.
            cancellationToken.ThrowIfCancellationRequested();
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Failure(operation, sessionId, path, ex);
        }
    }

    private static void TryDelete(string? path)
    {
        try
        {
            if (path is not null)
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
            // Leftover temporary files are ignored by load and list.
        }
    }
}
