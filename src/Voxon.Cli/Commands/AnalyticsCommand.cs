using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Voxon.Analytics;
using Voxon.Sessions;

namespace Voxon.Cli.Commands;

/// <summary><c>voxon analytics SESSION_ID [--chart]</c>: session and per-conversation analytics, custom metrics and learned preferences.</summary>
internal static class AnalyticsCommand
{
    public static Command Create(CliIO io)
    {
        var id = new Argument<string>("id") { Description = "The session id" };
        var chart = new Option<bool>("--chart") { Description = "Draw active hours and topics as bar charts" };
        var command = new Command("analytics", "Show a stored session's analytics and learned preferences.");
        command.Arguments.Add(id);
        command.Options.Add(chart);
        command.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            await using var voxon = CliIO.Client(result);
            var session = await voxon.LoadSessionAsync(result.GetValue(id)!, cancellationToken);
            var analytics = await session.GetAnalyticsAsync(cancellationToken);
            await WriteAsync(io.Output, session, analytics);
            if (result.GetValue(chart))
            {
                DrawCharts(io.Output, analytics);
            }

            return 0;
        }));
        return command;
    }

    private static async Task WriteAsync(TextWriter o, Session session, SessionAnalytics a)
    {
        await o.WriteLineAsync($"Session {session.SessionId}  user {session.UserId}");
        await o.WriteLineAsync(Invariant($"Conversations: {a.ConversationCount}  messages: {a.MessageCount}  total duration: {a.TotalDurationSeconds:F0}s  average: {a.AvgDurationSeconds:F0}s"));
        await o.WriteLineAsync($"Topics: {(a.Topics.Count == 0 ? "(none yet)" : string.Join(", ", a.Topics))}");
        await o.WriteLineAsync(Invariant($"Satisfaction: {a.SatisfactionScore:F1}/5 ({a.SatisfactionSource})"));
        await o.WriteLineAsync($"Most active hours ({a.TimeZone}): {(a.ActiveHours.Count == 0 ? "(none yet)" : string.Join(", ", a.ActiveHours.Select(h => $"{h:00}:00")))}");

        foreach (var info in session.Conversations)
        {
            var c = session.GetConversationAnalytics(info.ConversationId);
            await o.WriteLineAsync(Invariant(
                $"Conversation {c.ConversationId}: {c.DurationSeconds:F0}s, {c.TurnCount} turns, {c.InterruptionCount} interruptions, {c.InjectionCount} injections, {c.AvgResponseTimeMs:F1} ms avg response"));
        }

        foreach (var m in session.GetCustomMetrics().Values.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            await o.WriteLineAsync(Invariant($"Metric {m.Name}: count {m.Count}, sum {m.Sum:G6}, last {m.Last:G6}, min {m.Min:G6}, max {m.Max:G6}, average {m.Average:G6}"));
        }

        var p = session.GetLearnedPreferences();
        await o.WriteLineAsync(Invariant(
            $"Learned preferences ({p.EvidenceCount} messages): speaking pace {(p.SpeakingPace is { } pace ? $"{pace:F0} wpm" : "unknown")}, avg message length {p.AvgMessageLength:F1} words, formality {p.FormalityScore:F2}, technical level {p.TechnicalLevel:F2}, verbosity {p.Verbosity:F2}"));
        foreach (var (name, value) in p.Overrides.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            await o.WriteLineAsync($"Override {name}: {value}");
        }
    }

    private static void DrawCharts(TextWriter writer, SessionAnalytics a)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });

        var hours = new BarChart().Label("Messages by hour").Width(60);
        foreach (var hour in Enumerable.Range(0, 24).Where(h => a.HourlyActivity[h] > 0))
        {
            hours.AddItem($"{hour:00}:00", a.HourlyActivity[hour]);
        }

        var topics = new BarChart().Label("Topics (mentions)").Width(60);
        foreach (var topic in a.Topics)
        {
            topics.AddItem(Markup.Escape(topic), a.TopicMentions.GetValueOrDefault(topic));
        }

        console.Write(hours);
        console.WriteLine();
        console.Write(topics);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
