using System.Buffers.Binary;

namespace Voxon.Storage.Conformance;

/// <summary>Random damage to a stored file: a flipped byte, a truncation, a deleted range or a deleted journal frame.</summary>
public static class JournalDamage
{
    /// <summary>Where each frame of a journal starts (the frame layout: uint32 length, its top bit set in frames with
    /// sections, 12 more header bytes, the rest).</summary>
    public static List<long> FrameStarts(byte[] journal)
    {
        var starts = new List<long>();
        for (long offset = 0; offset + 16 <= journal.Length; offset += 16 + (BinaryPrimitives.ReadUInt32LittleEndian(journal.AsSpan((int)offset)) & 0x7FFF_FFFF))
        {
            starts.Add(offset);
        }

        return starts;
    }

    /// <summary>Damages <paramref name="path"/> at random; returns what was done.</summary>
    public static async Task<string> ApplyAsync(string path, Random random)
    {
        var bytes = await File.ReadAllBytesAsync(path);
        var name = Path.GetFileName(path);
        string done;
        switch (random.Next(4))
        {
            case 0:
                var at = random.Next(bytes.Length);
                var mask = (byte)random.Next(1, 256);
                bytes[at] ^= mask;
                done = $"flipped byte {at} of {name} with {mask:x2}";
                break;
            case 1:
                var length = random.Next(bytes.Length);
                bytes = bytes[..length];
                done = $"truncated {name} to {length} bytes";
                break;
            case 2:
                var from = random.Next(bytes.Length);
                var count = random.Next(1, Math.Min(64, bytes.Length - from) + 1);
                bytes = [.. bytes[..from], .. bytes[(from + count)..]];
                done = $"deleted bytes {from}..{from + count} of {name}";
                break;
            default:
                var starts = name.EndsWith(".journal", StringComparison.Ordinal) ? FrameStarts(bytes) : [];
                if (starts.Count == 0)
                {
                    bytes[^1] ^= 1;
                    done = $"flipped the last byte of {name}";
                    break;
                }

                var frame = random.Next(starts.Count);
                var end = frame + 1 < starts.Count ? starts[frame + 1] : bytes.Length;
                bytes = [.. bytes[..(int)starts[frame]], .. bytes[(int)end..]];
                done = $"deleted frame {frame} of {starts.Count} of {name}";
                break;
        }

        await File.WriteAllBytesAsync(path, bytes);
        return done;
    }
}
