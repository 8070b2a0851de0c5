using System.Globalization;
using Voxon.Memory;

namespace Voxon.Retention;

/// <summary>
/// Per-category lifetimes of memories (<see cref="VoxonOptions.MemoryTtl"/>): an entry of a listed category expires that
/// long after it was stored (<see cref="MemoryEntry.CreatedAt"/>), or at its own expiry when that comes first.
/// </summary>
/// <remarks>The clock starts when the entry was stored, not when what it tells happened (<see cref="MemoryEntry.OccurredAt"/>):
/// a retention limit bounds how long the data is kept, so "I broke my arm in 2010" is not dropped the moment it is
/// told, and a date in the text (a future appointment) cannot keep data longer than the policy allows. The policy is
/// applied when entries are read, never written into them, so lengthening or removing a lifetime takes effect on
/// entries already stored.</remarks>
internal sealed class MemoryTtlPolicy
{
    private readonly Dictionary<string, TimeSpan> _ttl;

    public MemoryTtlPolicy(IEnumerable<KeyValuePair<string, TimeSpan>> ttl) => _ttl = new Dictionary<string, TimeSpan>(ttl, StringComparer.Ordinal);

    /// <summary>No category lifetimes.</summary>
    public static MemoryTtlPolicy None { get; } = new([]);

    /// <summary>When <paramref name="entry"/> expires: the earlier of its own expiry and its category's lifetime; null for never.</summary>
    public DateTimeOffset? ExpiryOf(MemoryEntry entry)
    {
        DateTimeOffset? byCategory = _ttl.TryGetValue(entry.Category, out var ttl) ? entry.CreatedAt + ttl : null;
        return entry.ExpiresAt is { } own && (byCategory is null || own < byCategory) ? own : byCategory;
    }

    /// <summary>Whether <paramref name="entry"/> is live at <paramref name="now"/>: not superseded, not expired by either clock.</summary>
    public bool IsLive(MemoryEntry entry, DateTimeOffset now) => entry.SupersededBy is null && !(ExpiryOf(entry) <= now);

    /// <summary>What is wrong with <paramref name="ttl"/>, one line per problem (for <see cref="VoxonOptions.Validate"/>).</summary>
    public static IEnumerable<string> Problems(IEnumerable<KeyValuePair<string, TimeSpan>> ttl)
    {
        foreach (var (category, lifetime) in ttl)
        {
            if (category is null || !Sessions.Session.CategoryPattern().IsMatch(category))
            {
                yield return $"memory_ttl: '{category}' is not a memory category (letters, digits, '_', '-' and '.', at most 64)";
            }
            else if (lifetime <= TimeSpan.Zero || lifetime > Sessions.Session.MaxMemoryLifetime)
            {
                yield return $"memory_ttl['{category}'] must be positive and at most 36500 days, got {lifetime.ToString("c", CultureInfo.InvariantCulture)}";
            }
        }
    }
}
