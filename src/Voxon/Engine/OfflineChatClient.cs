using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Voxon.Memory;

namespace Voxon.Engine;

/// <summary>
/// The embedded offline engine: a deterministic <see cref="IChatClient"/> that answers from the context
/// ContextWeaver put in the prompt. It acknowledges statements, answers questions about what the user
/// told it ("What's my name and interest?"), and says plainly when it does not know. No network, no model.
/// </summary>
/// <remarks>Thread-safe and stateless: everything it knows arrives in the messages of each call.</remarks>
public sealed partial class OfflineChatClient : IChatClient
{
    /// <summary>The model id it reports.</summary>
    public const string ModelId = "voxon-offline";

    private static readonly ChatClientMetadata Metadata = new("voxon-offline", null, ModelId);

    private static readonly (string[] Cues, string[] FactMarkers, string Missing)[] Topics =
    [
        (["name", "who am i", "call me"], ["name is"], "I don't know your name yet"),
        (["interest", "interested", "what do i like", "into", "hobby", "hobbies"], ["interested in", "likes "], "I don't know what you're interested in yet"),
        (["where do i live", "where i live", "live", "home", "city"], ["lives in"], "I don't know where you live yet"),
        (["where am i from", "from"], ["is from"], "I don't know where you're from yet"),
        (["work", "job", "for a living", "employer"], ["works at", "works as"], "I don't know where you work yet"),
        (["old", "age"], ["years old"], "I don't know your age yet"),
        (["prefer", "preference"], ["prefers", "dislikes"], "I don't know your preferences yet"),
    ];

    /// <summary>Whether <paramref name="client"/> is the offline engine, directly or under decorators.</summary>
    public static bool IsOffline(IChatClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.GetService(typeof(OfflineChatClient)) is not null;
    }

    /// <inheritdoc />
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        cancellationToken.ThrowIfCancellationRequested();
        var list = messages as IList<ChatMessage> ?? messages.ToList();
        if (!string.IsNullOrEmpty(options?.Instructions))
        {
            // Callers such as Agent Framework agents pass the system prompt (with Voxon's woven memory) as instructions.
            list = [new ChatMessage(ChatRole.System, options.Instructions), .. list];
        }

        var reply = Answer(list);
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, reply))
        {
            ModelId = ModelId,
            FinishReason = ChatFinishReason.Stop,
        };
        return Task.FromResult(response);
    }

    /// <summary>Streams the same answer as <see cref="GetResponseAsync"/>, word by word (each with its trailing space),
    /// so streamed turns, sentence chunking and interruption behave offline as they do with a model.</summary>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        var messageId = Guid.NewGuid().ToString("N");
        foreach (Match word in StreamedWord().Matches(response.Text))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new ChatResponseUpdate(ChatRole.Assistant, word.Value) { ModelId = ModelId, MessageId = messageId };
            await Task.Yield();
        }

        yield return new ChatResponseUpdate { Role = ChatRole.Assistant, ModelId = ModelId, MessageId = messageId, FinishReason = ChatFinishReason.Stop };
    }

    [GeneratedRegex(@"\S+\s*")]
    private static partial Regex StreamedWord();

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(ChatClientMetadata) ? Metadata
            : serviceKey is null && serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private static string Answer(IList<ChatMessage> messages)
    {
        var user = messages.LastOrDefault(m => m.Role == ChatRole.User)?.Text?.Trim() ?? string.Empty;
        var facts = messages
            .Where(m => m.Role == ChatRole.System)
            .SelectMany(m => (m.Text ?? string.Empty).Split('\n'))
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("- ", StringComparison.Ordinal))
            .Select(line => Label().Replace(line[2..], string.Empty).TrimEnd('.'))
            .ToList();

        if (user.Length == 0)
        {
            return "I didn't catch that. Could you say it again?";
        }

        if (MemoryExtractor.IsQuestion(user))
        {
            return AnswerQuestion(user, facts);
        }

        var stated = MemoryExtractor.Extract(user);
        if (stated.Count > 0)
        {
            return Acknowledge(stated);
        }

        if (Greeting().IsMatch(user))
        {
            var name = facts.Select(f => NameOf().Match(f)).FirstOrDefault(m => m.Success)?.Groups[1].Value;
            return name is null ? "Hello! How can I help you today?" : $"Hello {name}! How can I help you today?";
        }

        return "I hear you. Tell me more, or ask me what I remember about you.";
    }

    private static string AnswerQuestion(string question, List<string> facts)
    {
        var lower = question.ToLowerInvariant();
        var parts = new List<string>();
        var asked = false;
        foreach (var (cues, markers, missing) in Topics)
        {
            if (!cues.Any(cue => HasPhrase(lower, cue)))
            {
                continue;
            }

            asked = true;
            var found = facts.Where(f => markers.Any(m => f.Contains(m, StringComparison.OrdinalIgnoreCase))).Distinct().ToList();
            parts.Add(found.Count > 0 ? JoinFacts(found.Select(SecondPerson)) : missing);
            if (found.Count > 0)
            {
                facts.RemoveAll(found.Contains);
            }
        }

        if (!asked)
        {
            var words = ContentWords(lower);
            var relevant = facts.Where(f => Mentions(f, words)).ToList();
            if (relevant.Count > 0)
            {
                return Sentence("From what you've told me, " + JoinFacts(relevant.Select(SecondPerson)));
            }

            return "I don't know that yet. I'm running offline, so I can only answer from what you've told me.";
        }

        return Sentence(JoinFacts(parts));
    }

    private static string Acknowledge(IReadOnlyList<ExtractedFact> stated)
    {
        var text = new StringBuilder();
        var rest = new List<string>();
        foreach (var fact in stated)
        {
            var name = NameOf().Match(fact.Content);
            if (name.Success)
            {
                text.Append(CultureInvariant($"Nice to meet you, {name.Groups[1].Value}! "));
            }
            else
            {
                rest.Add(SecondPerson(fact.Content));
            }
        }

        if (rest.Count > 0)
        {
            text.Append(Sentence("Got it: I'll remember that " + JoinFacts(rest)));
        }

        return text.ToString().Trim();
    }

    /// <summary>Turns a third-person memory ("User is interested in X") into second person ("you're interested in X").</summary>
    internal static string SecondPerson(string fact)
    {
        foreach (var (from, to) in Pronouns)
        {
            if (fact.StartsWith(from, StringComparison.OrdinalIgnoreCase))
            {
                return to + fact[from.Length..];
            }
        }

        return fact;
    }

    private static readonly (string From, string To)[] Pronouns =
    [
        ("User's ", "your "),
        ("User is ", "you're "),
        ("User asked to remember: ", "you asked me to remember: "),
        ("User likes ", "you like "),
        ("User lives ", "you live "),
        ("User works ", "you work "),
        ("User prefers ", "you prefer "),
        ("User dislikes ", "you dislike "),
        ("User feels ", "you feel "),
        ("User ", "you "),
    ];

    private static bool HasPhrase(string text, string phrase)
    {
        for (var at = text.IndexOf(phrase, StringComparison.Ordinal); at >= 0; at = text.IndexOf(phrase, at + 1, StringComparison.Ordinal))
        {
            var end = at + phrase.Length;
            if ((at == 0 || !char.IsLetter(text[at - 1])) && (end == text.Length || !char.IsLetter(text[end]) || text[end] == 's'))
            {
                return true;
            }
        }

        return false;
    }

    private static string JoinFacts(IEnumerable<string> facts)
    {
        var list = facts.ToList();
        return list.Count switch
        {
            0 => string.Empty,
            1 => list[0],
            _ => string.Join(", ", list.Take(list.Count - 1)) + " and " + list[^1],
        };
    }

    private static string Sentence(string text) =>
        text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..].TrimEnd('.') + ".";

    private static HashSet<string> ContentWords(string text)
    {
        var words = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var match in Words().EnumerateMatches(text))
        {
            var word = text.AsSpan(match.Index, match.Length);
            if (word.Length > 3 && !StopWords.Contains(word))
            {
                words.Add(word.ToString());
            }
        }

        return words;
    }

    /// <summary>Whether <paramref name="fact"/> has one of the <see cref="ContentWords"/> <paramref name="words"/>, in
    /// any case. Matched in place: every fact of the context is checked on every question.</summary>
    private static bool Mentions(string fact, HashSet<string> words)
    {
        var lookup = words.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var match in Words().EnumerateMatches(fact))
        {
            if (lookup.Contains(fact.AsSpan(match.Index, match.Length)))
            {
                return true;
            }
        }

        return false;
    }

    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> StopWords = new HashSet<string>(
        ["what", "whats", "that", "this", "with", "have", "about", "your", "user", "tell", "know", "does", "from", "there", "they", "them", "would", "could", "should"],
        StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);

    [GeneratedRegex(@"^\[[^\]]*\]\s*")]
    private static partial Regex Label();

    [GeneratedRegex(@"^(?:hi|hello|hey|good (?:morning|afternoon|evening))\b", RegexOptions.IgnoreCase)]
    private static partial Regex Greeting();

    [GeneratedRegex(@"name is (\S+(?: \p{Lu}\S*)*)")]
    private static partial Regex NameOf();

    [GeneratedRegex(@"\p{L}+")]
    private static partial Regex Words();
}
