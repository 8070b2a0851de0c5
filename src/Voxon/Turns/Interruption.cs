using System.Text.RegularExpressions;

namespace Voxon.Turns;

/// <summary>What the user heard of a reply when they interrupted it: the heard text, or the audio played against the
/// audio's total duration (the heard words are then estimated in proportion), or nothing known (the whole reply).</summary>
internal sealed partial record Interruption(string? HeardText, TimeSpan? Played, TimeSpan? Total)
{
    /// <summary>The interruption reported without knowing what was heard.</summary>
    public static Interruption Unknown { get; } = new(null, null, null);

    /// <summary>Validates and builds an interruption by the audio played.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative played time or a non-positive total.</exception>
    public static Interruption ByAudio(TimeSpan played, TimeSpan total)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(played, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(total, TimeSpan.Zero);
        return new Interruption(null, played, total);
    }

    /// <summary>What the user heard of <paramref name="generated"/>.</summary>
    public string Heard(string generated)
    {
        if (HeardText is not null)
        {
            return HeardText.Trim();
        }

        if (Played is not { } played || Total is not { } total)
        {
            return generated;
        }

        // Speech runs at a roughly even pace, so the share of audio played is the share of words heard.
        var words = Word().Matches(generated);
        var heard = (int)Math.Round(words.Count * Math.Min(1, played / total), MidpointRounding.AwayFromZero);
        return heard == 0 ? string.Empty : generated[..(words[heard - 1].Index + words[heard - 1].Length)].Trim();
    }

    [GeneratedRegex(@"\S+")]
    private static partial Regex Word();
}
