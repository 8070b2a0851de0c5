using Voxon.Sessions;
using Voxon.Storage;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Storage;

/// <summary>Ids are file names: none may address a path outside the storage folder.</summary>
public class SessionIdTests
{
    public static TheoryData<string> PathLikeIds => ["../x", "a/b", "..", ".", "C:\\x", "", "x\0y", "..\\x", "/etc/passwd", ".hidden", "a b", new string('x', 200)];

    [Theory]
    [MemberData(nameof(PathLikeIds))]
    public async Task Path_like_ids_are_rejected_everywhere_and_nothing_is_written(string id)
    {
        await using var voxon = new TestVoxon();
        var existing = await voxon.CreateSessionAsync(new SessionConfig { SessionId = "kept" });
        await existing.SaveAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => voxon.Client.LoadSessionAsync(id));
        await Assert.ThrowsAsync<ArgumentException>(() => voxon.Client.DeleteSessionAsync(id));
        await Assert.ThrowsAsync<ArgumentException>(() => voxon.Client.CreateSessionAsync(id));
        await Assert.ThrowsAsync<ArgumentException>(() => voxon.Client.ListSessionsAsync(id));
        var config = Assert.Throws<VoxonConfigurationException>(new SessionConfig { SessionId = id }.Validate);
        Assert.Contains("session_id", config.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<VoxonConfigurationException>(() => voxon.Client.CreateSessionAsync("alice", new SessionConfig { SessionId = id }));
        var document = new SessionDocument { SessionId = id, UserId = "alice", Config = new SessionConfig() };
        await Assert.ThrowsAsync<ArgumentException>(() => voxon.Storage.SaveAsync(document));

        Assert.Equal([voxon.StorageFolder], Directory.GetFileSystemEntries(voxon.Root));
        // Only the kept session's own files (its document, and the lock beside it).
        Assert.All(Directory.GetFileSystemEntries(voxon.StorageFolder), f => Assert.StartsWith("kept.", Path.GetFileName(f), StringComparison.Ordinal));
        Assert.Contains(voxon.PathOf("kept"), Directory.GetFileSystemEntries(voxon.StorageFolder));
    }

    [Fact]
    public async Task Path_like_conversation_id_is_rejected()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => session.StartConversationAsync("../c"));

        Assert.Empty(session.Conversations);
    }

    [Theory]
    [InlineData("sess_abc123")]
    [InlineData("user-1.2_x")]
    public void Ordinary_ids_are_valid(string id) => Assert.Equal(id, SessionIds.Validate(id));
}
