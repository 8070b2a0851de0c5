namespace Voxon.Memory.Search;

/// <summary>The arithmetic a local sentence encoder runs in (see <see cref="ArcticXsEmbeddingGenerator"/>).</summary>
public enum EncoderPrecision
{
    /// <summary>The model as published, in float32.</summary>
    Float32,

    /// <summary>
    /// Weights quantized to int8 per output column when the model loads, activations quantized per run (dynamic
    /// quantization), attention fused and the last layer computed for the first token only: about half the float32
    /// time for a short query, vectors with a cosine of about 0.998 to the float32 ones.
    /// </summary>
    Int8,
}
