using Voxon.Sessions;

namespace Voxon.Storage;

/// <summary>A stored session template: base config, required context keys, allowed memory categories.</summary>
public sealed class TemplateDocument
{
    /// <summary>The template's name (id rules apply).</summary>
    public required string Name { get; set; }

    /// <summary>The configuration sessions start from.</summary>
    public required SessionConfig BaseConfig { get; set; }

    /// <summary>Context keys a session must be given.</summary>
    public List<string> RequiredContext { get; set; } = [];

    /// <summary>Memory categories allowed; empty allows any.</summary>
    public List<string> MemoryCategories { get; set; } = [];
}
