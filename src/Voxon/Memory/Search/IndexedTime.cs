namespace Voxon.Memory.Search;

/// <summary>The days a memory is about, as the index keeps them for time questions.</summary>
/// <param name="Start">The first day: the earliest date its text states, or the day it happened.</param>
/// <param name="End">The last day.</param>
/// <param name="Stated">Whether the text itself states a date ("yesterday", "last week"): evidence for "when" questions.</param>
internal readonly record struct IndexedTime(DateOnly Start, DateOnly End, bool Stated)
{
    /// <summary>Whether a time is set (the default value means none).</summary>
    public bool IsKnown => End != default;
}
