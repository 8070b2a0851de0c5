using Voxon.Server.Hosting;
using Voxon.Server.Tenancy;

namespace Voxon.Server.Api;

/// <summary>Analytics, custom metrics and preferences of a session.</summary>
internal static class InsightEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        var session = v1.MapGroup("/sessions/{id}").WithTags("Analytics");
        session.MapGet("/analytics", AnalyticsAsync).WithName("GetAnalytics");
        session.MapPost("/metrics", TrackAsync).WithName("TrackMetric");
        session.MapGet("/preferences", PreferencesAsync).WithName("GetPreferences");
        session.MapPut("/preferences/{name}", SetPreferenceAsync).WithName("SetPreference");
    }

    private static Task<AnalyticsView> AnalyticsAsync(string id, HttpContext http, SessionHost host, CancellationToken cancellationToken) =>
        host.RunAsync(http.Tenant(), id, save: false, async live =>
        {
            var s = live.Session;
            var analytics = await s.GetAnalyticsAsync(cancellationToken);
            var conversations = s.Conversations.Select(c => s.GetConversationAnalytics(c.ConversationId)).ToList();
            return new AnalyticsView(analytics, conversations, s.GetCustomMetrics(), s.GetLearnedPreferences(), s.UpdatedAt);
        }, cancellationToken);

    private static async Task<IResult> TrackAsync(string id, MetricRequest body, HttpContext http, SessionHost host, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(body.Name) || body.Value is not { } value)
        {
            throw new ArgumentException("A metric needs a 'name' and a numeric 'value'.");
        }

        await host.RunAsync(http.Tenant(), id, save: true, live =>
        {
            live.Session.TrackMetric(body.Name, value);
            return Task.FromResult(true);
        }, cancellationToken);
        return Results.NoContent();
    }

    private static Task<Adaptation.LearnedPreferences> PreferencesAsync(string id, HttpContext http, SessionHost host, CancellationToken cancellationToken) =>
        host.RunAsync(http.Tenant(), id, save: false, live => Task.FromResult(live.Session.GetLearnedPreferences()), cancellationToken);

    private static Task<Adaptation.LearnedPreferences> SetPreferenceAsync(string id, string name, PreferenceRequest body, HttpContext http, SessionHost host, CancellationToken cancellationToken) =>
        host.RunAsync(http.Tenant(), id, save: true, live =>
        {
            live.Session.SetPreference(name, body.Value ?? throw new ArgumentException("A preference needs a 'value'."));
            return Task.FromResult(live.Session.GetLearnedPreferences());
        }, cancellationToken);
}
