using System.Text;
using System.Text.Json.Nodes;
using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Storage;

/// <summary>A damaged legacy (JSON) snapshot gives <see cref="SessionCorruptException"/> naming the session, never another exception type.</summary>
public class CorruptSessionTests
{
    private const string Id = "s1";

    public static TheoryData<string, Func<byte[], byte[]>> Damage => new()
    {
        { "truncated JSON", valid => valid[..(valid.Length * 2 / 3)] },
        { "empty file", _ => [] },
        { "garbage bytes", _ => [.. Enumerable.Range(0, 256).Select(i => (byte)(i * 37 % 256))] },
        { "JSON array", _ => "[1, 2, 3]"u8.ToArray() },
        { "JSON null", _ => "null"u8.ToArray() },
        { "JSON string", _ => "\"session\""u8.ToArray() },
        { "object of another shape", _ => """{"hello": "world"}"""u8.ToArray() },
        { "config of the wrong type", valid => Edit(valid, root => root["config"] = 5) },
        { "memory entries missing", valid => Edit(valid, root => root["memory"]!["entries"] = null) },
        { "wrong session_id inside", valid => Edit(valid, root => root["session_id"] = "s2") },
        { "importance 7", valid => Edit(valid, root => root["memory"]!["entries"]![0]!["importance"] = 7) },
        { "empty memory content", valid => Edit(valid, root => root["memory"]!["entries"]![0]!["content"] = "") },
        { "embedding not base64", valid => Edit(valid, root => root["memory"]!["entries"]![0]!["embedding"] = "%%%") },
        { "embedding as numbers", valid => Edit(valid, root => root["memory"]!["entries"]![0]!["embedding"] = new JsonArray(0.1, 0.2)) },
        { "bad timestamp", valid => Edit(valid, root => root["memory"]!["entries"]![0]!["timestamp"] = "last tuesday") },
        { "bad memory_mode", valid => Edit(valid, root => root["config"]!["memory_mode"] = "forever") },
        { "bad temperature", valid => Edit(valid, root => root["config"]!["temperature"] = 9) },
        { "path-like user_id", valid => Edit(valid, root => root["user_id"] = "../root") },
        { "duplicate conversation", valid => Edit(valid, root => root["conversations"]!.AsArray().Add(root["conversations"]![0]!.DeepClone())) },
        { "conversation is its own parent", valid => Edit(valid, root => root["conversations"]![0]!["parent_id"] = root["conversations"]![0]!["conversation_id"]!.DeepClone()) },
        { "turn role unknown", valid => Edit(valid, root => root["conversations"]![0]!["turns"]![0]!["role"] = "narrator") },
    };

    [Theory]
    [MemberData(nameof(Damage))]
    public async Task Damaged_file_gives_SessionCorruptException_naming_the_session(string damage, Func<byte[], byte[]> corrupt)
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync(new SessionConfig { SessionId = Id });
        await Alice.IntroduceAsync(session);
        var path = voxon.PathOf(Id);

        // Damage to a legacy JSON snapshot (binary snapshots have their own damage tests beside the journal's).
        var legacy = SessionDocumentSerializer.Serialize((await voxon.Storage.LoadAsync(Id))!);
        await File.WriteAllBytesAsync(path, corrupt(legacy));

        var error = await Record.ExceptionAsync(() => voxon.NewClient().LoadSessionAsync(Id));

        var corruptError = Assert.IsType<SessionCorruptException>(error);
        Assert.Equal(Id, corruptError.SessionId);
        Assert.Contains($"session '{Id}'", corruptError.Message, StringComparison.Ordinal);
        Assert.False(corruptError.IsTransient, damage);
    }

    [Fact]
    public async Task A_lost_snapshot_is_reported_as_corruption_not_as_a_deletion_or_another_writer()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync(new SessionConfig { SessionId = Id });
        await Alice.IntroduceAsync(session);
        var copy = await voxon.NewClient().LoadSessionAsync(Id);
        File.Delete(voxon.PathOf(Id));

        var load = await Record.ExceptionAsync(() => voxon.NewClient().LoadSessionAsync(Id));
        copy.AddMemory("User rows on Sundays", "interest");
        var save = await Record.ExceptionAsync(() => copy.SaveAsync());

        Assert.Contains("snapshot file is missing", Assert.IsType<SessionCorruptException>(load).Message, StringComparison.Ordinal);
        Assert.Contains("snapshot file is missing", Assert.IsType<SessionCorruptException>(save).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_a_session_leaves_no_acknowledged_version_behind_so_the_id_can_be_created_again()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync(new SessionConfig { SessionId = Id });
        await Alice.IntroduceAsync(session);
        Assert.True(await voxon.Storage.DeleteAsync(Id));

        var again = await voxon.NewClient().CreateSessionAsync("alice", new SessionConfig { SessionId = Id });
        await again.SaveAsync();

        Assert.Equal(again.Version, (await voxon.Storage.LoadAsync(Id))!.Version);
    }

    [Fact]
    public void A_stored_version_older_than_the_base_is_not_blamed_on_another_writer()
    {
        var wentBack = new SessionConcurrencyException("file", Id, expectedVersion: 5, actualVersion: 3);
        var overtaken = new SessionConcurrencyException("file", Id, expectedVersion: 5, actualVersion: 6);

        Assert.DoesNotContain("another process", wentBack.Message, StringComparison.Ordinal);
        Assert.Contains("went back", wentBack.Message, StringComparison.Ordinal);
        Assert.Contains("another process saved", overtaken.Message, StringComparison.Ordinal);
    }

    private static byte[] Edit(byte[] valid, Action<JsonNode> change)
    {
        var root = JsonNode.Parse(valid)!;
        change(root);
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }
}
