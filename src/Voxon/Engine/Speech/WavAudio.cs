using System.Buffers.Binary;

namespace Voxon.Engine.Speech;

/// <summary>16-bit PCM WAV files: reading the header (including the placeholder sizes a streamed WAV carries), writing
/// one, joining sentences, and converting to the realtime engine's format.</summary>
public static class WavAudio
{
    private const int HeaderSize = 44;

    /// <summary>Reads a 16-bit PCM WAV file.</summary>
    /// <exception cref="FormatException">Not a RIFF/WAVE file of 16-bit PCM, or truncated.</exception>
    public static WavInfo Parse(ReadOnlySpan<byte> wav)
    {
        if (wav.Length < 12 || !wav[..4].SequenceEqual("RIFF"u8) || !wav[8..12].SequenceEqual("WAVE"u8))
        {
            throw new FormatException("Not a WAV file: it does not start with a RIFF/WAVE header.");
        }

        int? rate = null, channels = null, bits = null;
        var offset = 12;
        while (offset + 8 <= wav.Length)
        {
            var id = wav.Slice(offset, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(wav.Slice(offset + 4, 4));
            var body = offset + 8;
            if (id.SequenceEqual("fmt "u8))
            {
                if (size < 16 || body + 16 > wav.Length)
                {
                    throw new FormatException("The WAV file's fmt chunk is truncated.");
                }

                var format = BinaryPrimitives.ReadUInt16LittleEndian(wav.Slice(body, 2));
                channels = BinaryPrimitives.ReadUInt16LittleEndian(wav.Slice(body + 2, 2));
                rate = BinaryPrimitives.ReadInt32LittleEndian(wav.Slice(body + 4, 4));
                bits = BinaryPrimitives.ReadUInt16LittleEndian(wav.Slice(body + 14, 2));
                if (format != 1 || bits != 16 || channels is < 1 or > 8 || rate <= 0)
                {
                    throw new FormatException($"Only 16-bit PCM WAV is supported (format {format}, {bits} bits, {channels} channels, {rate} Hz).");
                }
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (rate is null)
                {
                    throw new FormatException("The WAV file has no fmt chunk before its data.");
                }

                // A streamed WAV (espeak-ng --stdout) carries a placeholder size: the data is what is there.
                var length = (int)Math.Min(size, (uint)(wav.Length - body));
                length -= length % (2 * channels!.Value);
                return new WavInfo(rate.Value, channels.Value, body, length);
            }

            offset = body + (int)Math.Min(size + (size & 1), (uint)(wav.Length - body));
        }

        throw new FormatException("The WAV file has no data chunk.");
    }

    /// <summary>A WAV file of 16-bit PCM samples.</summary>
    public static byte[] FromPcm16(ReadOnlySpan<byte> pcm, int sampleRate, int channels = 1)
    {
        var wav = new byte[HeaderSize + pcm.Length];
        var span = wav.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], 36 + pcm.Length);
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], (short)channels);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], sampleRate * channels * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], (short)(channels * 2));
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], pcm.Length);
        pcm.CopyTo(span[HeaderSize..]);
        return wav;
    }

    /// <summary>Joins WAV files of one format into one (the sentences of a reply).</summary>
    /// <exception cref="FormatException">A part is not 16-bit PCM WAV, or the parts differ in rate or channels.</exception>
    public static byte[] Concatenate(IEnumerable<byte[]> parts)
    {
        using var pcm = new MemoryStream();
        WavInfo? first = null;
        foreach (var part in parts)
        {
            var info = Parse(part);
            if (first is { } f && (f.SampleRate != info.SampleRate || f.Channels != info.Channels))
            {
                throw new FormatException($"Cannot join WAV parts of {f.SampleRate} Hz x{f.Channels} and {info.SampleRate} Hz x{info.Channels}.");
            }

            first ??= info;
            pcm.Write(part, info.DataOffset, info.DataLength);
        }

        return FromPcm16(pcm.ToArray(), first?.SampleRate ?? 24_000, first?.Channels ?? 1);
    }

    /// <summary>The samples of a WAV file as mono 16-bit PCM at <paramref name="sampleRate"/> (channels averaged,
    /// linear interpolation between samples): what the realtime engine takes.</summary>
    /// <exception cref="FormatException">Not a 16-bit PCM WAV file.</exception>
    public static byte[] ToMonoPcm16(ReadOnlySpan<byte> wav, int sampleRate)
    {
        var info = Parse(wav);
        var data = wav.Slice(info.DataOffset, info.DataLength);
        var frames = info.DataLength / (2 * info.Channels);
        var mono = new float[frames];
        for (var i = 0; i < frames; i++)
        {
            var sum = 0;
            for (var c = 0; c < info.Channels; c++)
            {
                sum += BinaryPrimitives.ReadInt16LittleEndian(data.Slice(((i * info.Channels) + c) * 2, 2));
            }

            mono[i] = (float)sum / info.Channels;
        }

        var outFrames = frames == 0 ? 0 : (int)((long)frames * sampleRate / info.SampleRate);
        var result = new byte[outFrames * 2];
        var step = (double)info.SampleRate / sampleRate;
        for (var i = 0; i < outFrames; i++)
        {
            var position = i * step;
            var index = (int)position;
            var next = Math.Min(index + 1, frames - 1);
            var value = mono[index] + ((mono[next] - mono[index]) * (float)(position - index));
            BinaryPrimitives.WriteInt16LittleEndian(result.AsSpan(i * 2), (short)Math.Clamp(MathF.Round(value), short.MinValue, short.MaxValue));
        }

        return result;
    }
}
