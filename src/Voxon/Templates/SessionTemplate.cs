using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Templates;

/// <summary>
/// A reusable recipe for sessions (the spec's <c>SessionTemplate</c>): a base config, the context keys every
/// session must be given, and the memory categories its sessions may use. Register it with
/// <see cref="VoxonClient.RegisterTemplateAsync"/> to use it by name from any process sharing the storage.
/// </summary>
/// <remarks>Immutable and thread-safe; the base config is copied in and out.</remarks>
public sealed class SessionTemplate
{
    /// <summary>Most context keys a template may require.</summary>
    public const int MaxKeys = 64;

    private readonly SessionConfig _baseConfig;

    /// <summary>Creates and validates a template.</summary>
    /// <param name="name">Template name; id rules (letters, digits, '-', '_', '.').</param>
    /// <param name="baseConfig">Config sessions start from (copied; its session and user ids are not used).</param>
    /// <param name="requiredContext">Context keys every session must be given; id rules.</param>
    /// <param name="memoryCategories">Memory categories sessions may use; empty or null allows any.</param>
    /// <exception cref="VoxonConfigurationException">Anything is invalid; the message lists every problem.</exception>
    public SessionTemplate(string name, SessionConfig? baseConfig = null, IEnumerable<string>? requiredContext = null, IEnumerable<string>? memoryCategories = null)
    {
        Name = name;
        _baseConfig = (baseConfig ?? new SessionConfig()).Clone();
        RequiredContext = [.. requiredContext ?? []];
        MemoryCategories = [.. memoryCategories ?? []];
        var errors = Problems();
        if (errors.Count > 0)
        {
            throw new VoxonConfigurationException(SessionIds.IsValid(name) ? $"session template '{name}'" : "session template", errors);
        }
    }

    /// <summary>The template's name.</summary>
    public string Name { get; }

    /// <summary>A copy of the config sessions start from.</summary>
    public SessionConfig BaseConfig => _baseConfig.Clone();

    /// <summary>Context keys every session must be given.</summary>
    public IReadOnlyList<string> RequiredContext { get; }

    /// <summary>Memory categories sessions may use; empty allows any.</summary>
    public IReadOnlyList<string> MemoryCategories { get; }

    /// <summary>Checks a context for this template: every required key present, every key and value well-formed.</summary>
    /// <exception cref="SessionTemplateException">Keys are missing or malformed; one exception naming all of them.</exception>
    public void ValidateContext(IReadOnlyDictionary<string, string> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var missing = RequiredContext.Where(k => !context.TryGetValue(k, out var v) || string.IsNullOrWhiteSpace(v)).ToList();
        var problems = new List<string>();
        if (missing.Count > 0)
        {
            problems.Add($"missing required context {(missing.Count == 1 ? "key" : "keys")}: {string.Join(", ", missing)}");
        }

        if (context.Count > MaxKeys)
        {
            problems.Add($"at most {MaxKeys} context keys are allowed, got {context.Count}");
        }

        foreach (var (key, value) in context.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!SessionIds.IsValid(key))
            {
                problems.Add($"context key {SessionIds.Describe(key)}");
            }
            else if (value is null || value.Length > MaxContextValueLength || value.Any(char.IsControl))
            {
                // Values are rendered into the model's context one per line: a newline could forge other lines.
                problems.Add($"context value of '{key}' must be at most {MaxContextValueLength} characters without control characters (newlines)");
            }
            else if (WellFormedText.Problem(value, $"context value of '{key}'") is { } problem)
            {
                problems.Add(problem);
            }
        }

        if (problems.Count > 0)
        {
            throw new SessionTemplateException(Name, $"Cannot create a session from template '{Name}': {string.Join("; ", problems)}.", missing);
        }
    }

    /// <summary>Longest accepted context value.</summary>
    public const int MaxContextValueLength = 1_000;

    internal TemplateDocument ToDocument() => new()
    {
        Name = Name,
        BaseConfig = BaseConfig,
        RequiredContext = [.. RequiredContext],
        MemoryCategories = [.. MemoryCategories],
    };

    internal static SessionTemplate FromDocument(TemplateDocument document) =>
        new(document.Name, document.BaseConfig, document.RequiredContext, document.MemoryCategories);

    private List<string> Problems()
    {
        var errors = new List<string>();
        if (!SessionIds.IsValid(Name))
        {
            errors.Add($"name {SessionIds.Describe(Name)}");
        }

        foreach (var key in RequiredContext.Where(k => !SessionIds.IsValid(k)))
        {
            errors.Add($"required_context key {SessionIds.Describe(key)}");
        }

        foreach (var key in RequiredContext.Where(SessionIds.IsValid).GroupBy(k => k, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add($"required_context key '{key.Key}' appears twice");
        }

        if (RequiredContext.Count > MaxKeys)
        {
            errors.Add($"required_context may have at most {MaxKeys} keys");
        }

        foreach (var category in MemoryCategories.Where(c => c is null || !Session.CategoryPattern().IsMatch(c)))
        {
            errors.Add($"memory category '{category}' may contain only letters, digits, '_', '-' and '.' (1 to 64)");
        }

        try
        {
            _baseConfig.Validate();
        }
        catch (VoxonConfigurationException ex)
        {
            errors.AddRange(ex.Errors.Select(e => "base_config: " + e));
        }

        return errors;
    }
}
