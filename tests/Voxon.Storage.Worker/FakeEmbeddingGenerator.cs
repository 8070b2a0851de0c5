using Microsoft.Extensions.AI;

namespace Voxon.Storage.Worker;

/// <summary>Deterministic 384-dimension embeddings from word hashes: fast, no model files, good enough for storage tests.</summary>
public sealed class FakeEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            var vector = new float[384];
            foreach (var word in value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                vector[(int)((uint)StringComparer.OrdinalIgnoreCase.GetHashCode(word) % 384)] += 1;
            }

            var norm = MathF.Sqrt(vector.Sum(x => x * x));
            result.Add(new Embedding<float>(norm == 0 ? vector : [.. vector.Select(x => x / norm)]));
        }

        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
