using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Templates;

namespace Voxon;

public sealed partial class VoxonClient
{
    /// <summary>Stores <paramref name="template"/> by name (replacing one with that name), so any client over the same storage can use it.</summary>
    /// <exception cref="VoxonStorageException">The backend failed.</exception>
    public Task RegisterTemplateAsync(SessionTemplate template, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(template);
        return _runtime.Storage.SaveTemplateAsync(template.ToDocument(), cancellationToken);
    }

    /// <summary>The registered template named <paramref name="name"/>, or null.</summary>
    /// <exception cref="ArgumentException">The name breaks the id rules.</exception>
    /// <exception cref="SessionTemplateException">The stored template is invalid.</exception>
    public async Task<SessionTemplate?> GetTemplateAsync(string name, CancellationToken cancellationToken = default)
    {
        SessionIds.Validate(name, "template name");
        var document = await _runtime.Storage.LoadTemplateAsync(name, cancellationToken);
        if (document is null)
        {
            return null;
        }

        try
        {
            return SessionTemplate.FromDocument(document);
        }
        catch (VoxonConfigurationException ex)
        {
            throw new SessionTemplateException(name, $"The stored template '{name}' is invalid: {ex.Message}");
        }
    }

    /// <summary>Names of the registered templates.</summary>
    public Task<IReadOnlyList<string>> ListTemplatesAsync(CancellationToken cancellationToken = default) =>
        _runtime.Storage.ListTemplatesAsync(cancellationToken);

    /// <summary>Creates a session from the registered template named <paramref name="templateName"/>.</summary>
    /// <inheritdoc cref="CreateSessionFromTemplateAsync(SessionTemplate, IReadOnlyDictionary{string, string}, string?, CancellationToken)" path="/param"/>
    /// <exception cref="SessionTemplateException">No template has that name, or the context is missing keys (all named in one message).</exception>
    public async Task<Session> CreateSessionFromTemplateAsync(string templateName, IReadOnlyDictionary<string, string> context, string? userId = null, CancellationToken cancellationToken = default)
    {
        var template = await GetTemplateAsync(templateName, cancellationToken)
            ?? throw new SessionTemplateException(templateName, $"No template named '{templateName}' is registered; register it with RegisterTemplateAsync first.");
        return await CreateSessionFromTemplateAsync(template, context, userId, cancellationToken);
    }

    /// <summary>Creates a session from <paramref name="template"/>: its base config (with a new session id), the
    /// <paramref name="context"/> given to the model on every turn, and memory restricted to the template's categories.
    /// Context and categories are stored with the session. Not stored until saved.</summary>
    /// <param name="template">The template, or see the overload taking a registered template's name.</param>
    /// <param name="context">Values for the template's required keys (and any others); keys follow the id rules.</param>
    /// <param name="userId">The owner; when null, the base config's user id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="SessionTemplateException">Required keys are missing (all named in one message) or keys/values are malformed.</exception>
    /// <exception cref="ArgumentException">No user id is given or it breaks the id rules.</exception>
    public async Task<Session> CreateSessionFromTemplateAsync(SessionTemplate template, IReadOnlyDictionary<string, string> context, string? userId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(template);
        template.ValidateContext(context);
        var config = template.BaseConfig;
        userId ??= config.UserId ?? throw new ArgumentException($"Template '{template.Name}' has no user id in its base config; pass userId.", nameof(userId));

        // The base config carries the session id it was made with; every session needs its own.
        config.SessionId = SessionIds.NewSessionId();
        var session = await CreateSessionAsync(userId, config, cancellationToken);
        session.ApplyTemplate(template.Name, context, template.MemoryCategories);
        return session;
    }
}
