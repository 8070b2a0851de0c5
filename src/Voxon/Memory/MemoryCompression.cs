namespace Voxon.Memory;

/// <summary>Data of <c>memory.compressed</c> and the result of <see cref="Sessions.Session.CompressMemoryAsync"/>.</summary>
/// <param name="Summaries">The summary entries made (redacted when sensitive).</param>
/// <param name="ReplacedIds">Ids of the entries the summaries replaced.</param>
/// <param name="TokensBefore">Live memory tokens before.</param>
/// <param name="TokensAfter">Live memory tokens after.</param>
public sealed record MemoryCompression(IReadOnlyList<MemoryEntry> Summaries, IReadOnlyList<string> ReplacedIds, int TokensBefore, int TokensAfter);
