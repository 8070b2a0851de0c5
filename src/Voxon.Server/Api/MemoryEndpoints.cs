using Microsoft.AspNetCore.Mvc;
using Voxon.Server.Hosting;
using Voxon.Server.Tenancy;

namespace Voxon.Server.Api;

/// <summary><c>/v1/sessions/{id}/memory</c>: list or search, add, forget, export.</summary>
internal static class MemoryEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        var memory = v1.MapGroup("/sessions/{id}/memory").WithTags("Memory");
        memory.MapGet("/", GetAsync).WithName("SearchMemory")
            .WithDescription("Without q: every live memory. With q: the best matches (hybrid lexical and semantic search).")
            .Produces<MemoryList>().Produces<List<MemorySearchHit>>();
        memory.MapPost("/", AddAsync).WithName("AddMemory");
        memory.MapDelete("/{memoryId}", ForgetAsync).WithName("ForgetMemory");
        memory.MapGet("/export", ExportAsync).WithName("ExportMemory");
    }

    private static Task<IResult> GetAsync(string id, string? q, string? category, [FromQuery(Name = "top_k")] int? topK, [FromQuery(Name = "min_score")] double? minScore, HttpContext http, SessionHost host, CancellationToken cancellationToken) =>
        host.RunAsync(http.Tenant(), id, save: false, async live =>
        {
            if (string.IsNullOrWhiteSpace(q))
            {
                var memory = live.Session.GetMemory();
                var entries = memory.Entries.Where(e => category is null || e.Category == category).Select(e => ApiViews.Memory(http.Tenant(), e)).ToList();
                return Results.Ok(new MemoryList(entries, memory.TokenCount, memory.MaxTokens));
            }

            var k = topK ?? 10;
            if (k is < 1 or > 100)
            {
                throw new ArgumentException("top_k must be between 1 and 100.");
            }

            if (minScore is { } score && !(score is >= 0 and <= 1))
            {
                throw new ArgumentException("min_score must be between 0 and 1.");
            }

            var hits = await live.Session.SearchMemoryAsync(q, k, category, minScore ?? 0, cancellationToken);
            return Results.Ok(hits.Select(h => new MemorySearchHit(ApiViews.Memory(http.Tenant(), h.Entry), h.Score, h.LexicalScore, h.SemanticScore)).ToList());
        }, cancellationToken);

    private static async Task<IResult> AddAsync(string id, AddMemoryRequest body, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(body.Content))
        {
            throw new ArgumentException("A memory needs a non-empty 'content'.");
        }

        if (body.ExpiresInSeconds is { } seconds && !(seconds > 0 && seconds <= Sessions.Session.MaxMemoryLifetime.TotalSeconds))
        {
            throw new ArgumentException("expires_in_seconds must be more than 0 and at most 36500 days; leave it out for none.");
        }

        var entry = await host.RunAsync(http.Tenant(), id, save: true, live => live.Session.AddMemoryAsync(
            body.Content, body.Category ?? "general", body.Importance ?? 0.5,
            body.ExpiresInSeconds is { } lifetime ? TimeSpan.FromSeconds(lifetime) : null, body.Sensitive ?? false, cancellationToken: cancellationToken), cancellationToken);
        return Results.Created($"/v1/sessions/{id}/memory/{entry.Id}", ApiViews.Memory(http.Tenant(), entry));
    }

    private static async Task<IResult> ForgetAsync(string id, string memoryId, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        var forgotten = await host.RunAsync(http.Tenant(), id, save: true, live => Task.FromResult(live.Session.ForgetMemory(memoryId)), cancellationToken);
        return forgotten ? Results.NoContent() : throw new KeyNotFoundException($"Session '{id}' has no memory '{memoryId}'.");
    }

    private static Task<IResult> ExportAsync(string id, HttpContext http, SessionHost host, CancellationToken cancellationToken) =>
        host.RunAsync(http.Tenant(), id, save: false, live =>
            Task.FromResult(Results.Text(TenantExports.MemoryForTenant(http.Tenant(), live.Session.ExportMemory()), "application/json")), cancellationToken);
}
