using System.Reflection;

namespace Voxon.Server.Dashboard;

/// <summary>The dashboard: plain HTML, CSS and JavaScript embedded in this assembly and served at <c>/</c>. It holds
/// no data of its own; it calls the same <c>/v1</c> API with the key the user types in.</summary>
internal static class DashboardEndpoints
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    public static void Map(WebApplication app)
    {
        var assembly = typeof(DashboardEndpoints).Assembly;
        var files = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("dashboard/", StringComparison.Ordinal))
            .ToDictionary(n => n["dashboard/".Length..], n => Read(assembly, n), StringComparer.Ordinal);

        app.MapGet("/", () => Serve(files, "index.html")).ExcludeFromDescription();
        app.MapGet("/dashboard/{file}", (string file) => Serve(files, file)).ExcludeFromDescription();
    }

    private static IResult Serve(Dictionary<string, byte[]> files, string name) =>
        files.TryGetValue(name, out var bytes)
            ? Results.Bytes(bytes, ContentTypes.GetValueOrDefault(Path.GetExtension(name), "application/octet-stream"))
            : Results.NotFound();

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
