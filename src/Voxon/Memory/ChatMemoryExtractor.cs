using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Voxon.Memory;

/// <summary>
/// Extracts memories with the configured model (JSON output), validating every field; when the model fails or
/// answers with anything unusable, the offline rules of <see cref="MemoryExtractor"/> decide instead.
/// </summary>
internal sealed partial class ChatMemoryExtractor(IChatClient chatClient, ILogger logger)
{
    private const int MaxFacts = 8;

    private const string Instructions =
        "Extract durable facts the user states about themselves in their message (name, age, where they live or work, " +
        "interests, preferences, people in their life, plans). Ignore questions and small talk. Write each fact in third person " +
        "starting with \"User\" (e.g. \"User's name is Alice\", \"User is interested in quantum physics\"). " +
        "Answer only with JSON: {\"facts\": [{\"content\": string, \"category\": one of identity|interest|location|work|preference|family|health|note|mood, " +
        "\"importance\": number 0..1, \"slot\": one of identity.name|identity.age|location.home|location.origin|work.employer|work.role|mood.current or null}]}. " +
        "Use {\"facts\": []} when there is nothing to remember.";

    private static readonly HashSet<string> Slots = ["identity.name", "identity.age", "location.home", "location.origin", "work.employer", "work.role", "mood.current"];

    public async Task<IReadOnlyList<ExtractedFact>> ExtractAsync(string message, CancellationToken cancellationToken)
    {
        try
        {
            var response = await chatClient.GetResponseAsync(
                [new ChatMessage(ChatRole.System, Instructions), new ChatMessage(ChatRole.User, message)],
                new ChatOptions { Temperature = 0, ResponseFormat = ChatResponseFormat.Json },
                cancellationToken);
            if (Parse(response.Text) is { } facts)
            {
                return facts;
            }

            logger.LogWarning("The model's memory extraction was not valid JSON of the expected shape; using the offline rules.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "The model could not extract memories; using the offline rules.");
        }

        return MemoryExtractor.Extract(message);
    }

    /// <summary>The facts in the model's answer, or null when any part of it is invalid.</summary>
    internal static IReadOnlyList<ExtractedFact>? Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("facts", out var facts)
                || facts.ValueKind != JsonValueKind.Array
                || facts.GetArrayLength() > MaxFacts)
            {
                return null;
            }

            var result = new List<ExtractedFact>();
            foreach (var fact in facts.EnumerateArray())
            {
                if (fact.ValueKind != JsonValueKind.Object
                    || !fact.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String
                    || !fact.TryGetProperty("category", out var category) || category.ValueKind != JsonValueKind.String
                    || !fact.TryGetProperty("importance", out var importance) || !importance.TryGetDouble(out var weight))
                {
                    return null;
                }

                var text = content.GetString()!.Trim();
                var kind = category.GetString()!;
                string? slot = null;
                if (fact.TryGetProperty("slot", out var slotValue) && slotValue.ValueKind == JsonValueKind.String)
                {
                    slot = slotValue.GetString();
                }

                if (text.Length is 0 or > 500 || !Category().IsMatch(kind) || weight is < 0 or > 1 || double.IsNaN(weight)
                    || (slot is not null && !Slots.Contains(slot)))
                {
                    return null;
                }

                result.Add(new ExtractedFact(text, kind, weight, slot));
            }

            return result;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^[a-z_]{1,32}$")]
    private static partial Regex Category();
}
