namespace Voxon.Sessions;

/// <summary>
/// Text given to be stored must be well-formed UTF-16: storage holds UTF-8, which has no code for an unpaired
/// surrogate (what is left of a character beyond U+FFFF, such as an emoji, when a string is cut inside it). Such text
/// was accepted, and came back from a reload with U+FFFD in place of the surrogate.
/// </summary>
internal static class WellFormedText
{
    /// <summary>The index of the first unpaired surrogate in <paramref name="text"/>, or -1 for none.</summary>
    public static int FirstUnpairedSurrogate(ReadOnlySpan<char> text)
    {
        var i = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        while (i >= 0)
        {
            if (!char.IsHighSurrogate(text[i]) || i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1]))
            {
                return i;
            }

            i += 2;
            var next = text[i..].IndexOfAnyInRange('\uD800', '\uDFFF');
            i = next < 0 ? -1 : i + next;
        }

        return -1;
    }

    /// <summary>What is wrong with <paramref name="text"/> (named <paramref name="what"/>), or null.</summary>
    public static string? Problem(string? text, string what) => FirstUnpairedSurrogate(text) is var at and >= 0
        ? $"{what} has an unpaired UTF-16 surrogate at character {at} (text cut inside an emoji or another character beyond U+FFFF?), which cannot be stored."
        : null;

    /// <exception cref="ArgumentException"><paramref name="text"/> has an unpaired surrogate.</exception>
    public static void Check(string? text, string what, string paramName)
    {
        if (Problem(text, what) is { } problem)
        {
            throw new ArgumentException(problem, paramName);
        }
    }

    /// <summary>The first <paramref name="length"/> characters of <paramref name="text"/>, one fewer when the cut would
    /// split a surrogate pair.</summary>
    public static string Cut(string text, int length) =>
        text.Length <= length ? text : text[..(char.IsHighSurrogate(text[length - 1]) ? length - 1 : length)];
}
