namespace Voxon.Memory.Search;

/// <summary>A query vector prepared for one <see cref="VectorSlab"/>: normalized, and quantized like the slab's scan copy.</summary>
internal sealed class VectorQuery(float[] vector)
{
    /// <summary>The normalized query.</summary>
    public float[] Vector { get; } = vector;

    /// <summary>Its int8 codes, when the slab scans int8.</summary>
    public sbyte[] Codes { get; set; } = [];

    /// <summary>The scale of <see cref="Codes"/>.</summary>
    public float Scale { get; set; }
}
