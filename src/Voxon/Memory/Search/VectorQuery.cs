namespace Voxon.Memory.Search;

/// <summary>A query vector prepared for one <see cref="VectorSlab"/>: normalized (or centred), and quantized like the slab's scan copy.</summary>
internal sealed class VectorQuery(float[] vector)
{
    /// <summary>The normalized query, or a centred one (see <see cref="Shift"/>).</summary>
    public float[] Vector { get; } = vector;

    /// <summary>
    /// How far this query's similarities sit below cosine similarities on average: for a query centred on the mean of
    /// the stored vectors with weight w, w times the mean's squared norm; 0 for a plain query. A floor on cosine
    /// similarity moves down by it.
    /// </summary>
    public float Shift { get; init; }

    /// <summary>Its <see cref="SignCodes"/>, when the slab's scan is approximate.</summary>
    public ulong[] Signs { get; set; } = [];

    /// <summary>Its int8 codes, when the slab scans int8.</summary>
    public sbyte[] Codes { get; set; } = [];

    /// <summary>The scale of <see cref="Codes"/>.</summary>
    public float Scale { get; set; }
}
