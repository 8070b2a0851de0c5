using System.Text.Json.Serialization;

namespace Voxon.Analytics;

/// <summary>The running aggregate of one custom metric (<see cref="Sessions.Session.TrackMetric"/>). Persisted with the session.</summary>
/// <param name="Name">The metric's name.</param>
/// <param name="Count">Values tracked.</param>
/// <param name="Sum">Their sum.</param>
/// <param name="Last">The latest value.</param>
/// <param name="Min">The smallest value.</param>
/// <param name="Max">The largest value.</param>
public sealed record CustomMetric(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("sum")] double Sum,
    [property: JsonPropertyName("last")] double Last,
    [property: JsonPropertyName("min")] double Min,
    [property: JsonPropertyName("max")] double Max)
{
    /// <summary>The mean value.</summary>
    [JsonPropertyName("average")]
    public double Average => Count == 0 ? 0 : Sum / Count;

    /// <summary>This aggregate with <paramref name="value"/> added.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The sum would overflow: an infinite sum cannot be saved as JSON, so
    /// every later save of the session would fail.</exception>
    internal CustomMetric With(double value)
    {
        if (Count == 0)
        {
            return new CustomMetric(Name, 1, value, value, value, value);
        }

        var sum = Sum + value;
        return double.IsFinite(sum)
            ? new CustomMetric(Name, Count + 1, sum, value, Math.Min(Min, value), Math.Max(Max, value))
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"Adding this value to metric '{Name}' would make its sum overflow.");
    }
}
