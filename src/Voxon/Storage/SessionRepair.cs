namespace Voxon.Storage;

/// <summary>What <see cref="SessionStorage.RepairAsync"/> did to a stored session.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="Repaired">Whether anything was damaged and the session was rolled back to <paramref name="Version"/>.</param>
/// <param name="Version">The version stored now: the last consistent one.</param>
/// <param name="AcknowledgedVersion">The last version a save had acknowledged before the damage (0 when unknown); the
/// versions after <paramref name="Version"/> up to it are lost.</param>
/// <param name="Problem">What was damaged; null when nothing was.</param>
/// <param name="DamagedCopy">Where the damaged data was kept for inspection; null when nothing was moved.</param>
public sealed record SessionRepair(string SessionId, bool Repaired, long Version, long AcknowledgedVersion, string? Problem, string? DamagedCopy);
