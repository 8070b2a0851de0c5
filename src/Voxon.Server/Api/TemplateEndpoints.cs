using Voxon.Server.Hosting;
using Voxon.Server.Tenancy;
using Voxon.Templates;

namespace Voxon.Server.Api;

/// <summary>Session templates, named per tenant (stored as <c>tenant.name</c>).</summary>
internal static class TemplateEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        var templates = v1.MapGroup("/templates").WithTags("Templates");
        templates.MapPost("/", RegisterAsync).WithName("RegisterTemplate");
        templates.MapGet("/", ListAsync).WithName("ListTemplates");
    }

    public static string StoredName(string tenant, string? name) => Tenants.StoredUserId(tenant, name, "template name");

    private static async Task<IResult> RegisterAsync(TemplateRequest body, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        var name = StoredName(http.Tenant(), body.Name);
        var template = new SessionTemplate(name, body.Config ?? new Sessions.SessionConfig(), body.RequiredContext ?? [], body.MemoryCategories);
        await host.Voxon.RegisterTemplateAsync(template, cancellationToken);
        return Results.Created($"/v1/templates/{body.Name}", new { name = body.Name });
    }

    private static async Task<List<string>> ListAsync(HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        var tenant = http.Tenant();
        return [.. (await host.Voxon.ListTemplatesAsync(cancellationToken)).Where(n => Tenants.Owns(tenant, n)).Select(n => Tenants.PublicUserId(tenant, n))];
    }
}
