using Microsoft.Extensions.Logging;
using System.Text;
using Voxon.Migration;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon;

public sealed partial class VoxonClient
{
    /// <summary>Imports a session export (the spec's <c>import_session</c>).</summary>
    /// <inheritdoc cref="ImportSessionAsync(ReadOnlyMemory{byte}, IReadOnlyDictionary{string, string}?, bool, CancellationToken)"/>
    public Task<Session> ImportSessionAsync(SessionExport export, IReadOnlyDictionary<string, string>? userIdMapping = null, bool newSessionId = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(export);
        return ImportSessionAsync(export.Utf8, userIdMapping, newSessionId, cancellationToken);
    }

    /// <summary>Imports a session export given as JSON text.</summary>
    /// <inheritdoc cref="ImportSessionAsync(ReadOnlyMemory{byte}, IReadOnlyDictionary{string, string}?, bool, CancellationToken)"/>
    public Task<Session> ImportSessionAsync(string data, IReadOnlyDictionary<string, string>? userIdMapping = null, bool newSessionId = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);

        // Checked before encoding so an oversized string is not copied.
        if (Encoding.UTF8.GetMaxByteCount(data.Length) > Options.MaxImportSize && Encoding.UTF8.GetByteCount(data) > Options.MaxImportSize)
        {
            throw new SessionImportException($"the document is {Encoding.UTF8.GetByteCount(data)} bytes, over the {Options.MaxImportSize}-byte limit (VoxonOptions.MaxImportSize)");
        }

        return ImportSessionAsync(Encoding.UTF8.GetBytes(data), userIdMapping, newSessionId, cancellationToken);
    }

    /// <summary>Imports a session export read from <paramref name="data"/> (at most <see cref="VoxonOptions.MaxImportSize"/> bytes are read).</summary>
    /// <inheritdoc cref="ImportSessionAsync(ReadOnlyMemory{byte}, IReadOnlyDictionary{string, string}?, bool, CancellationToken)"/>
    public async Task<Session> ImportSessionAsync(Stream data, IReadOnlyDictionary<string, string>? userIdMapping = null, bool newSessionId = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var limit = Options.MaxImportSize;
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await data.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new SessionImportException($"the document is over the {limit}-byte limit (VoxonOptions.MaxImportSize)");
            }

            buffer.Write(chunk, 0, read);
        }

        return await ImportSessionAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), userIdMapping, newSessionId, cancellationToken);
    }

    /// <summary>Validates a session export (size, JSON, format, version, checksum, shape, ids), remaps user ids and
    /// stores the session through the storage backend as a new version; then loads it.</summary>
    /// <param name="data">The export's UTF-8 JSON.</param>
    /// <param name="userIdMapping">Old user id to new, applied everywhere a user id occurs (owner, config, note authors,
    /// share owners and targets); ids not in the map are kept.</param>
    /// <param name="newSessionId">Store under a fresh session id (a copy). Otherwise the exported id is kept, and an
    /// existing session with that id is an error rather than being overwritten.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The imported session. Shares are not imported: their tokens never leave the system that made them.</returns>
    /// <exception cref="SessionImportException">The input is refused; the message says why and nothing was written.</exception>
    /// <exception cref="VoxonStorageException">The backend failed.</exception>
    public async Task<Session> ImportSessionAsync(ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, string>? userIdMapping = null, bool newSessionId = false, CancellationToken cancellationToken = default)
    {
        var payload = SessionImporter.Read(data, Options.MaxImportSize);
        SessionImporter.Remap(payload, userIdMapping);
        var document = payload.Session;
        SessionImporter.RecomputeCounts(document);
        if (newSessionId)
        {
            document.SessionId = SessionIds.NewSessionId();
            document.Config.SessionId = document.SessionId;
        }
        else if (await ExistsAsync(document.SessionId, cancellationToken))
        {
            throw AlreadyExists(document.SessionId, null);
        }

        document.Version++;
        document.OwnerVersion = null; // an import is the owner's write: no notes to merge on top of it
        try
        {
            // Create-only: a session stored since the check above (another import, a new session) is never replaced.
            await _runtime.Storage.CreateAsync(document, cancellationToken);
        }
        catch (SessionConcurrencyException ex)
        {
            throw AlreadyExists(document.SessionId, ex);
        }

        _logger.LogInformation("Imported session {SessionId} for user {UserId}.", document.SessionId, document.UserId);
        return await LoadSessionAsync(document.SessionId, cancellationToken);
    }

    private static SessionImportException AlreadyExists(string sessionId, Exception? innerException) =>
        new($"session '{sessionId}' already exists here; delete it first, or import it as a copy under a new session id (newSessionId: true; `voxon sessions import --new-id`)", innerException);

    private async Task<bool> ExistsAsync(string sessionId, CancellationToken cancellationToken)
    {
        try
        {
            return await _runtime.Storage.LoadAsync(sessionId, cancellationToken) is not null;
        }
        catch (SessionCorruptException)
        {
            return true;
        }
    }
}
