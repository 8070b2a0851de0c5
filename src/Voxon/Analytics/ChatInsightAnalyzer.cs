using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Voxon.Analytics;

/// <summary>
/// Topic and satisfaction analysis by the configured model (JSON output, validated). Returns null when the model
/// fails or answers with anything unusable, so the caller keeps the offline estimate.
/// </summary>
internal sealed class ChatInsightAnalyzer(IChatClient chatClient, ILogger logger)
{
    /// <summary>Most recent user messages sent for analysis.</summary>
    public const int MaxMessages = 50;

    private const string Instructions =
        "You analyse what a user said to a voice assistant. Name the subjects actually discussed as short noun phrases " +
        "(at most 5, most discussed first; never filler such as names of the assistant or greetings), and estimate the user's " +
        "satisfaction from 1 (very unhappy) to 5 (very happy). Answer only with JSON: {\"topics\": [string], \"satisfaction\": number}.";

    public async Task<(IReadOnlyList<string> Topics, double Satisfaction)?> AnalyzeAsync(IReadOnlyList<string> userMessages, CancellationToken cancellationToken)
    {
        if (userMessages.Count == 0)
        {
            return null;
        }

        try
        {
            var prompt = string.Join('\n', userMessages.TakeLast(MaxMessages).Select(m => "- " + m));
            var response = await chatClient.GetResponseAsync(
                [new ChatMessage(ChatRole.System, Instructions), new ChatMessage(ChatRole.User, prompt)],
                new ChatOptions { Temperature = 0, ResponseFormat = ChatResponseFormat.Json },
                cancellationToken);
            var parsed = Parse(response.Text);
            if (parsed is null)
            {
                logger.LogWarning("The model's topic and satisfaction analysis was unusable; keeping the offline estimate.");
            }

            return parsed;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "The model could not analyse the conversation; keeping the offline estimate.");
            return null;
        }
    }

    internal static (IReadOnlyList<string> Topics, double Satisfaction)? Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("topics", out var topics) || topics.ValueKind != JsonValueKind.Array || topics.GetArrayLength() > 5
                || !root.TryGetProperty("satisfaction", out var satisfaction) || !satisfaction.TryGetDouble(out var score)
                || double.IsNaN(score) || score is < 1 or > 5)
            {
                return null;
            }

            var list = new List<string>();
            foreach (var topic in topics.EnumerateArray())
            {
                if (topic.ValueKind != JsonValueKind.String || topic.GetString()!.Trim() is not { Length: > 0 and <= 60 } text)
                {
                    return null;
                }

                list.Add(text.ToLowerInvariant());
            }

            return (list, Math.Round(score, 2));
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
