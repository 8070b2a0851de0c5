namespace Voxon.Templates;

/// <summary>A session cannot be made from a template: required context is missing or malformed, or no template has that name.</summary>
public sealed class SessionTemplateException : VoxonException
{
    /// <summary>Creates the exception.</summary>
    public SessionTemplateException(string templateName, string message, IReadOnlyList<string>? missingKeys = null)
        : base(message)
    {
        TemplateName = templateName;
        MissingKeys = missingKeys ?? [];
    }

    /// <summary>The template concerned.</summary>
    public string TemplateName { get; }

    /// <summary>Every required context key that was not given (empty when the problem is something else).</summary>
    public IReadOnlyList<string> MissingKeys { get; }
}
