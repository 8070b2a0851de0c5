namespace Voxon.Engine.Speech;

/// <summary>The format and extent of a WAV file's samples.</summary>
/// <param name="SampleRate">Samples per second.</param>
/// <param name="Channels">Channels.</param>
/// <param name="DataOffset">Where the samples start in the file.</param>
/// <param name="DataLength">Bytes of samples.</param>
public readonly record struct WavInfo(int SampleRate, int Channels, int DataOffset, int DataLength)
{
    /// <summary>How long the audio plays.</summary>
    public TimeSpan Duration => TimeSpan.FromSeconds((double)DataLength / (2 * Channels * SampleRate));
}
