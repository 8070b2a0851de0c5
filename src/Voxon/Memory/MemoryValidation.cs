using Voxon.Sessions;

namespace Voxon.Memory;

/// <summary>The rules a memory added through the API must meet (Session.AddMemory and the memory tools go through it).</summary>
internal static class MemoryValidation
{
    /// <summary>Checks a memory given through the API before anything is embedded or stored.</summary>
    /// <exception cref="ArgumentException">Empty, oversized or malformed (<see cref="WellFormedText"/>) content or context, a
    /// malformed or disallowed category.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Importance outside 0..1, or a non-positive lifetime.</exception>
    public static void Validate(string content, string category, double importance, TimeSpan? expiresAfter, string? context, IReadOnlySet<string>? allowedCategories)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(content);
        if (content.Length > Session.MaxMemoryContentLength)
        {
            throw new ArgumentException($"Memory content may have at most {Session.MaxMemoryContentLength} characters; this has {content.Length}.", nameof(content));
        }

        WellFormedText.Check(content, "Memory content", nameof(content));

        ArgumentException.ThrowIfNullOrWhiteSpace(category);
        if (!Session.CategoryPattern().IsMatch(category))
        {
            throw new ArgumentException($"Memory category '{category}' may contain only letters, digits, '_', '-' and '.'.", nameof(category));
        }

        if (allowedCategories is { } allowed && !allowed.Contains(category))
        {
            throw new ArgumentException($"Memory category '{category}' is not allowed in this session; allowed: {string.Join(", ", allowed.Order(StringComparer.Ordinal))}.", nameof(category));
        }

        if (double.IsNaN(importance) || importance is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(importance), importance, "Importance must be between 0 and 1.");
        }

        if (expiresAfter is { } ttl && (ttl <= TimeSpan.Zero || ttl > Session.MaxMemoryLifetime))
        {
            throw new ArgumentOutOfRangeException(nameof(expiresAfter), ttl, "A memory's lifetime must be positive and at most 36500 days (null for none).");
        }

        if (context is { Length: > Session.MaxMemoryContentLength })
        {
            throw new ArgumentException($"Memory context may have at most {Session.MaxMemoryContentLength} characters; this has {context.Length}.", nameof(context));
        }

        WellFormedText.Check(context, "Memory context", nameof(context));
    }
}
