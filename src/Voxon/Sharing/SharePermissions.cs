namespace Voxon.Sharing;

/// <summary>The permissions a share can grant. A shared view can do exactly what they allow and nothing else.</summary>
public static class SharePermissions
{
    /// <summary>Read memory (sensitive entries redacted), transcripts (redacted) and basic analytics.</summary>
    public const string Read = "read";

    /// <summary>Add memory entries of category <c>note</c>, authored by the user the session was shared with.</summary>
    public const string AddNotes = "add_notes";

    /// <summary>Every permission this version knows.</summary>
    public static IReadOnlyList<string> All { get; } = [Read, AddNotes];

    /// <summary>Validates and de-duplicates <paramref name="permissions"/>.</summary>
    /// <exception cref="ArgumentException">The set is empty or names an unknown permission.</exception>
    internal static List<string> Normalize(IEnumerable<string> permissions)
    {
        ArgumentNullException.ThrowIfNull(permissions);
        var list = permissions.Select(p => p?.Trim() ?? string.Empty).Distinct(StringComparer.Ordinal).ToList();
        var unknown = list.Where(p => !All.Contains(p)).ToList();
        if (list.Count == 0 || unknown.Count > 0)
        {
            throw new ArgumentException(
                $"Share permissions must be one or more of {string.Join(", ", All)}{(unknown.Count > 0 ? $"; unknown: {string.Join(", ", unknown.Select(u => $"'{u}'"))}" : string.Empty)}.",
                nameof(permissions));
        }

        return [.. All.Where(list.Contains)];
    }
}
