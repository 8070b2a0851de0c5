using System.Text.RegularExpressions;

namespace Voxon.Security;

/// <summary>The values that sensitive memories carry, for text that is not a memory but may repeat them (the user's
/// own messages sent to the model for analysis): the whole memory, and each of its words that holds a digit (codes,
/// numbers, passwords), which is where a paraphrase still carries the secret.</summary>
internal static partial class SensitiveValues
{
    /// <summary><paramref name="text"/> with every value of <paramref name="sensitiveContents"/> replaced by <see cref="Redaction.Marker"/>.</summary>
    public static string Redact(string text, IReadOnlyCollection<string> sensitiveContents)
    {
        foreach (var content in sensitiveContents)
        {
            text = text.Replace(content, Redaction.Marker, StringComparison.OrdinalIgnoreCase);
            foreach (Match value in ValueWord().Matches(content))
            {
                text = text.Replace(value.Value, Redaction.Marker, StringComparison.OrdinalIgnoreCase);
            }
        }

        return text;
    }

    /// <summary>A word of at least four letters and digits with a digit among them.</summary>
    [GeneratedRegex(@"(?=[\p{L}\p{N}_-]*\p{N})[\p{L}\p{N}_-]{4,}")]
    private static partial Regex ValueWord();
}
