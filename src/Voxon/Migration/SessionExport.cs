using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Voxon.Sharing;
using Voxon.Storage;

namespace Voxon.Migration;

/// <summary>
/// A full, versioned and checksummed export of a session (the spec's <c>export_full</c>), made by
/// <see cref="Sessions.Session.ExportFullAsync"/>. As JSON:
/// <c>{"format":"voxon.session.export","version":1,"exported_at":...,"checksum":"sha256:&lt;hex&gt;","payload":{"session":{...},"shares":[...]}}</c>,
/// where the checksum covers the payload written compactly. The payload holds everything stored of the session
/// (config, memory with embeddings, conversations and transcripts, analytics, preferences, template context) and
/// its shares' metadata; never share tokens or their hashes.
/// </summary>
/// <remarks>Immutable and thread-safe. It holds the sensitive memories in clear: protect it like the storage itself.</remarks>
public sealed class SessionExport
{
    /// <summary>The <c>format</c> of every export.</summary>
    public const string FormatName = "voxon.session.export";

    /// <summary>The export version this build writes and reads.</summary>
    public const int CurrentVersion = 1;

    private readonly byte[] _utf8;

    private SessionExport(byte[] utf8, string sessionId, string userId, DateTimeOffset exportedAt, string checksum)
    {
        _utf8 = utf8;
        SessionId = sessionId;
        UserId = userId;
        ExportedAt = exportedAt;
        Checksum = checksum;
    }

    /// <summary>The exported session's id.</summary>
    public string SessionId { get; }

    /// <summary>The exported session's owner.</summary>
    public string UserId { get; }

    /// <summary>When the export was made.</summary>
    public DateTimeOffset ExportedAt { get; }

    /// <summary><c>sha256:</c> and the lower-case hex SHA-256 of the compact payload.</summary>
    public string Checksum { get; }

    /// <summary>Always <see cref="CurrentVersion"/> for exports made by this build.</summary>
    public int Version => CurrentVersion;

    /// <summary>The export as UTF-8 JSON (a copy).</summary>
    public byte[] ToUtf8Bytes() => (byte[])_utf8.Clone();

    /// <summary>The export as JSON text.</summary>
    public override string ToString() => Encoding.UTF8.GetString(_utf8);

    internal ReadOnlyMemory<byte> Utf8 => _utf8;

    internal static SessionExport Create(SessionDocument session, IReadOnlyList<ShareInfo> shares, DateTimeOffset exportedAt)
    {
        var payload = new SessionExportPayload { Session = session, Shares = [.. shares] };
        var serialized = JsonSerializer.SerializeToUtf8Bytes(payload, MigrationJsonContext.Default.SessionExportPayload);
        using var parsed = JsonDocument.Parse(serialized);
        var canonical = Canonical(parsed.RootElement);
        var checksum = ChecksumOf(canonical);

        var buffer = new ArrayBufferWriter<byte>(canonical.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("format", FormatName);
            writer.WriteNumber("version", CurrentVersion);
            writer.WriteString("exported_at", exportedAt);
            writer.WriteString("checksum", checksum);
            writer.WritePropertyName("payload");
            writer.WriteRawValue(canonical, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return new SessionExport(buffer.WrittenSpan.ToArray(), session.SessionId, session.UserId, exportedAt, checksum);
    }

    /// <summary>The payload written compactly in document order: what the checksum covers, however the file was formatted.</summary>
    internal static byte[] Canonical(JsonElement payload)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            payload.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    internal static string ChecksumOf(ReadOnlySpan<byte> canonical) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(canonical));
}
