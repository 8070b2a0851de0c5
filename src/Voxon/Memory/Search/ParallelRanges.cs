using System.Runtime.ExceptionServices;

namespace Voxon.Memory.Search;

/// <summary>Work over 0..count-1 split into fixed ranges across cores, or done in one piece when small.</summary>
internal static class ParallelRanges
{
    /// <summary>The number of ranges <see cref="Run"/> splits <paramref name="count"/> items into: one below
    /// <paramref name="threshold"/>, where a split costs more than it saves; else up to one per core, each at least half
    /// the threshold.</summary>
    public static int PartsOf(int count, int threshold) =>
        count >= threshold ? Math.Max(1, Math.Min(Environment.ProcessorCount, count / (threshold / 2))) : 1;

    /// <summary>Runs <paramref name="range"/> (part, from, to) over the <see cref="PartsOf"/> ranges of
    /// 0..<paramref name="count"/>-1, in parallel when there are several. The ranges depend only on the count, so a
    /// caller that combines per-range results in part order gets the same result however the parts are scheduled.</summary>
    public static void Run(int count, int threshold, Action<int, int, int> range)
    {
        var parts = PartsOf(count, threshold);
        if (parts == 1)
        {
            range(0, 0, count);
            return;
        }

        try
        {
            Parallel.For(0, parts, part => range(part, (int)((long)count * part / parts), (int)((long)count * (part + 1) / parts)));
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count == 1)
        {
            ExceptionDispatchInfo.Throw(ex.InnerExceptions[0]); // as the work would have thrown it in one piece
        }
    }
}
