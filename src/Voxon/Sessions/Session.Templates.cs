using System.Collections.Frozen;
using Voxon.Memory;
using Voxon.Storage;

namespace Voxon.Sessions;

public sealed partial class Session
{
    private static readonly IReadOnlyDictionary<string, string> NoContext = FrozenDictionary<string, string>.Empty;

    /// <summary>The template the session was created from; null when none.</summary>
    public string? TemplateName { get; private set; }

    /// <summary>The context the session was created with from a template (empty otherwise); ContextWeaver gives it to the model on every turn.</summary>
    public IReadOnlyDictionary<string, string> TemplateContext { get; private set; } = NoContext;

    /// <summary>Binds the session to a template: its context and allowed memory categories. Called once, before the session is shared.</summary>
    internal void ApplyTemplate(string name, IReadOnlyDictionary<string, string> context, IReadOnlyCollection<string> memoryCategories)
    {
        TemplateName = name;
        TemplateContext = context.ToFrozenDictionary(StringComparer.Ordinal);
        AllowedMemoryCategories = memoryCategories.Count == 0 ? null : memoryCategories.ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>The stored form of the template binding; null when the session has no template.</summary>
    private TemplateBindingDocument? TemplateBinding() => TemplateName is null
        ? null
        : new TemplateBindingDocument
        {
            Name = TemplateName,
            Context = new Dictionary<string, string>(TemplateContext, StringComparer.Ordinal),
            MemoryCategories = AllowedMemoryCategories is { } allowed ? [.. allowed.Order(StringComparer.Ordinal)] : [],
        };

    private void RestoreTemplate(TemplateBindingDocument? binding)
    {
        if (binding is not null)
        {
            ApplyTemplate(binding.Name, binding.Context, binding.MemoryCategories);
        }
    }

    /// <summary>Extracted facts in categories the template allows; the others are dropped, since a turn cannot fail over them.</summary>
    private IReadOnlyList<ExtractedFact> AllowedFacts(IReadOnlyList<ExtractedFact> facts) =>
        AllowedMemoryCategories is { } allowed ? [.. facts.Where(f => allowed.Contains(f.Category))] : facts;
}
