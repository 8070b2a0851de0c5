using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Voxon.Migration;
using Voxon.Tests.Sharing;

namespace Voxon.Tests.Migration;

public sealed class ImportFuzzTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Thousands of damaged exports (seeded): byte flips, truncations, and re-signed field deletions and
    /// type swaps that get past the checksum. Only <see cref="SessionImportException"/> may escape, and a refused
    /// document leaves the storage folder byte-for-byte unchanged.</summary>
    [Fact]
    public async Task Mutated_exports_only_ever_fail_with_SessionImportException_and_never_write_partially()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 3, 1, 9, 0, 0, TimeSpan.Zero));
        string export;
        await using (var source = FeatureKit.Client(_dir.Sub("a"), time))
        {
            export = (await (await MigrationFixture.RichSessionAsync(source, time)).ExportFullAsync()).ToString();
        }

        var folder = _dir.Sub("b");
        await using var target = FeatureKit.Client(folder, time);
        var baseline = FeatureKit.Snapshot(folder);
        var random = new Random(20250301);
        var refused = 0;
        var accepted = 0;
        for (var i = 0; i < 3000; i++)
        {
            var data = Mutate(export, random, i % 4);
            try
            {
                var session = await target.ImportSessionAsync(data);
                accepted++;
                await target.DeleteSessionAsync(session.SessionId);
            }
            catch (SessionImportException)
            {
                refused++;
            }

            Assert.Equal(baseline, FeatureKit.Snapshot(folder));
        }

        Assert.True(refused > 2000, $"refused {refused}, accepted {accepted}");
    }

    private static byte[] Mutate(string export, Random random, int kind)
    {
        var bytes = Encoding.UTF8.GetBytes(export);
        switch (kind)
        {
            case 0:
                for (var n = random.Next(1, 4); n > 0; n--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            case 1:
                return bytes[..random.Next(bytes.Length)];
            default:
                return Encoding.UTF8.GetBytes(MigrationFixture.Resign(export, payload => EditRandomNode(payload, random, delete: kind == 2)));
        }
    }

    private static void EditRandomNode(JsonObject payload, Random random, bool delete)
    {
        var nodes = new List<JsonNode>();
        Collect(payload, nodes);
        var node = nodes[random.Next(nodes.Count)];
        var parent = node.Parent!;
        JsonNode? replacement = random.Next(6) switch
        {
            0 => null,
            1 => JsonValue.Create("x"),
            2 => JsonValue.Create(-1),
            3 => JsonValue.Create(true),
            4 => new JsonObject(),
            _ => new JsonArray(),
        };
        if (parent is JsonObject obj)
        {
            var name = node.GetPropertyName();
            if (delete)
            {
                obj.Remove(name);
            }
            else
            {
                obj[name] = replacement;
            }
        }
        else if (parent is JsonArray array)
        {
            var index = node.GetElementIndex();
            if (delete)
            {
                array.RemoveAt(index);
            }
            else
            {
                array[index] = replacement;
            }
        }
    }

    private static void Collect(JsonNode node, List<JsonNode> nodes)
    {
        IEnumerable<JsonNode?> children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>())
        {
            nodes.Add(child);
            Collect(child, nodes);
        }
    }
}
