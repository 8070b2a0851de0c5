namespace Voxon.Storage;

/// <summary>What <see cref="SessionStorage.RewriteAllAsync"/> rewrote with the current key, and how many unreadable records it left as they were.</summary>
/// <param name="Sessions">Sessions rewritten.</param>
/// <param name="Shares">Share records rewritten.</param>
/// <param name="Templates">Templates rewritten.</param>
/// <param name="Skipped">Records that could not be read (corrupt, or sealed with a key not configured), reported and left unchanged.</param>
public sealed record StoreRewriteResult(int Sessions, int Shares, int Templates, int Skipped);
