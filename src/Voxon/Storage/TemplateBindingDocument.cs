namespace Voxon.Storage;

/// <summary>The <c>template</c> part of a stored session: which template made it, the context it was given
/// and the memory categories it allows.</summary>
public sealed class TemplateBindingDocument
{
    /// <summary>The template's name.</summary>
    public required string Name { get; set; }

    /// <summary>The context the session was created with (required keys and any others given).</summary>
    public Dictionary<string, string> Context { get; set; } = [];

    /// <summary>Memory categories allowed; empty allows any.</summary>
    public List<string> MemoryCategories { get; set; } = [];
}
