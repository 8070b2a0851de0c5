using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;
using Voxon.Storage;

namespace Voxon.Tests.Sharing;

/// <summary>Hand-written fakes and helpers for the template, sharing, migration and CLI tests.</summary>
internal static class FeatureKit
{
    public static VoxonClient Client(string folder, TimeProvider? time = null, IChatClient? chat = null) =>
        Client(new FileSessionStorage(folder), time, chat);

    public static VoxonClient Client(SessionStorage storage, TimeProvider? time = null, IChatClient? chat = null, long? maxImport = null)
    {
        var options = new VoxonOptions
        {
            Storage = storage,
            UseEnvironment = false,
            EmbeddingGenerator = new HashEmbeddings(),
            ChatClient = chat ?? new RecordingChatClient(),
            TimeProvider = time ?? TimeProvider.System,
        };
        if (maxImport is { } max)
        {
            options.MaxImportSize = max;
        }

        return new VoxonClient(options);
    }

    /// <summary>Every file under <paramref name="folder"/> with a hash of its bytes: equal snapshots mean nothing was written.</summary>
    public static Dictionary<string, string> Snapshot(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .ToDictionary(p => Path.GetRelativePath(folder, p), p => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))))
            : [];
}

/// <summary>A temporary folder deleted at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("voxon-feature-").FullName;

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Deterministic 32-dimension embeddings from word hashes: fast, and similar texts get similar vectors.</summary>
internal sealed class HashEmbeddings : IEmbeddingGenerator<string, Embedding<float>>
{
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var text in values)
        {
            var vector = new float[32];
            foreach (var word in text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                vector[(int)((uint)StableHash(word) % 32)] += 1;
            }

            var norm = MathF.Sqrt(vector.Sum(v => v * v));
            result.Add(new Embedding<float>(norm == 0 ? vector : [.. vector.Select(v => v / norm)]));
        }

        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }

    private static int StableHash(string s) => s.Aggregate(17, (h, c) => unchecked((h * 31) + c));
}

/// <summary>A second backend for round trips: documents kept as serialized bytes in memory.</summary>
internal sealed class InMemorySessionStorage : SessionStorage
{
    private readonly ConcurrentDictionary<string, byte[]> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ShareRecord> _shares = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TemplateDocument> _templates = new(StringComparer.Ordinal);

    public override string BackendName => "memory";

    public int SessionCount => _sessions.Count;

    public byte[]? RawBytes(string sessionId) => _sessions.GetValueOrDefault(sessionId);

    public override Task SaveAsync(SessionDocument document, CancellationToken cancellationToken = default)
    {
        _sessions[SessionIds.Validate(document.SessionId)] = SessionDocumentSerializer.Serialize(document);
        return Task.CompletedTask;
    }

    public override Task<SessionDocument?> LoadAsync(string sessionId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_sessions.TryGetValue(sessionId, out var bytes) ? SessionDocumentSerializer.Deserialize(bytes, BackendName, sessionId) : null);

    public override Task<bool> DeleteAsync(string sessionId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_sessions.TryRemove(sessionId, out _));

    public override Task<IReadOnlyList<SessionSummary>> ListAsync(string? userId = null, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<SessionSummary>>([.. _sessions.Keys.Select(id => SessionDocumentSerializer.Deserialize(_sessions[id], BackendName, id))
            .Where(d => userId is null || d.UserId == userId)
            .Select(d => new SessionSummary(d.SessionId, d.UserId, d.CreatedAt, d.UpdatedAt, d.Analytics.ConversationCount, d.Analytics.MessageCount))]);

    public override Task SaveShareAsync(ShareRecord share, CancellationToken cancellationToken = default)
    {
        _shares[share.TokenHash] = share;
        return Task.CompletedTask;
    }

    public override Task<ShareRecord?> FindShareAsync(string tokenHash, CancellationToken cancellationToken = default) =>
        Task.FromResult(_shares.GetValueOrDefault(tokenHash));

    public override Task<IReadOnlyList<ShareRecord>> ListSharesAsync(string sessionId, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ShareRecord>>([.. _shares.Values.Where(s => s.SessionId == sessionId).OrderBy(s => s.CreatedAt)]);

    public override Task SaveTemplateAsync(TemplateDocument template, CancellationToken cancellationToken = default)
    {
        _templates[template.Name] = template;
        return Task.CompletedTask;
    }

    public override Task<TemplateDocument?> LoadTemplateAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(_templates.GetValueOrDefault(name));

    public override Task<IReadOnlyList<string>> ListTemplatesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>([.. _templates.Keys.Order(StringComparer.Ordinal)]);
}

internal static class Utf8Text
{
    public static bool Contains(byte[] haystack, string needle) => haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;
}
