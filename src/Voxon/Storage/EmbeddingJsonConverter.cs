using System.Text.Json;
using System.Text.Json.Serialization;
using Voxon.Memory.Search;

namespace Voxon.Storage;

/// <summary>Writes embeddings as base64 little-endian float32 rather than JSON number arrays (7x smaller, far faster).</summary>
internal sealed class EmbeddingJsonConverter : JsonConverter<ReadOnlyMemory<float>>
{
    public override ReadOnlyMemory<float> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return default; // a value-type converter is handed nulls: none, as when the property was a nullable array
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("An embedding must be a base64 string of float32 values.");
        }

        try
        {
            return EmbeddingCodec.FromBase64(reader.GetString()!);
        }
        catch (FormatException ex)
        {
            throw new JsonException($"Invalid embedding: {ex.Message}", ex);
        }
    }

    public override void Write(Utf8JsonWriter writer, ReadOnlyMemory<float> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(EmbeddingCodec.ToBase64(value.Span));
    }
}
