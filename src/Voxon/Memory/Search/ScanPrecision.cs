namespace Voxon.Memory.Search;

/// <summary>
/// The copy of the memory embeddings the semantic scan reads. Whatever the scan reads, the candidates it keeps are
/// rescored against the float32 vectors, so scores and the final order are float32 ones.
/// </summary>
internal enum ScanPrecision
{
    /// <summary>The float32 vectors themselves, 4 bytes per component: exact, and no rescoring.</summary>
    Float32,

    /// <summary>IEEE half precision, 2 bytes per component.</summary>
    Float16,

    /// <summary>Signed bytes with one scale per vector (<see cref="Int8Quantizer"/>), 1 byte per component.</summary>
    Int8,
}
