namespace Voxon.Engine.Realtime;

/// <summary>The audio format of the realtime engine: 16-bit little-endian mono PCM at 24 kHz, both ways.</summary>
public static class RealtimeAudio
{
    /// <summary>Samples per second.</summary>
    public const int SampleRate = 24_000;

    /// <summary>Bytes per millisecond of audio (2 bytes a sample).</summary>
    public const int BytesPerMillisecond = SampleRate * 2 / 1000;

    /// <summary>The duration of <paramref name="bytes"/> bytes of PCM16 audio.</summary>
    public static TimeSpan Duration(long bytes) => TimeSpan.FromMilliseconds((double)bytes / BytesPerMillisecond);

    /// <summary>The bytes of <paramref name="duration"/> of PCM16 audio (whole samples).</summary>
    public static int Bytes(TimeSpan duration) => (int)Math.Round(duration.TotalMilliseconds * BytesPerMillisecond / 2) * 2;
}
