using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Voxon.Sessions;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Storage;

/// <summary>The stored file follows the spec's "Session Data Structure".</summary>
public class SessionFileFormatTests
{
    private static readonly DateTimeOffset Start = new(2024, 1, 15, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Saved_file_has_the_specs_keys_and_the_transcript()
    {
        var time = new FakeTimeProvider(Start);
        await using var voxon = new TestVoxon(time: time);
        var session = await voxon.CreateSessionAsync(new SessionConfig { Voice = "nova", MemoryMode = MemoryMode.Persistent, Instructions = "You are a friendly tutor" });
        session.SetPreference("formality", "always_formal");
        await using (var first = await session.StartConversationAsync("c1"))
        {
            await Alice.SayAllAsync(first, Alice.Introduction);
            time.Advance(TimeSpan.FromSeconds(90));
        }

        using var file = JsonDocument.Parse(await File.ReadAllBytesAsync(voxon.PathOf(session.SessionId)));
        var root = file.RootElement;

        Assert.Equal(session.SessionId, root.GetProperty("session_id").GetString());
        Assert.Equal("alice", root.GetProperty("user_id").GetString());
        Assert.Equal(Start, root.GetProperty("created_at").GetDateTimeOffset());
        Assert.Equal(Start.AddSeconds(90), root.GetProperty("updated_at").GetDateTimeOffset());

        var config = root.GetProperty("config");
        Assert.Equal("You are a friendly tutor", config.GetProperty("instructions").GetString());
        Assert.Equal("nova", config.GetProperty("voice").GetString());
        Assert.Equal("persistent", config.GetProperty("memory_mode").GetString());
        Assert.Equal(0.8, config.GetProperty("temperature").GetDouble());
        Assert.Equal(4096, config.GetProperty("max_output_tokens").GetInt32());

        var memory = root.GetProperty("memory");
        var entries = memory.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(["User's name is Alice", "User is interested in quantum physics"], entries.Select(e => e.GetProperty("content").GetString()));
        var name = entries[0];
        Assert.Equal("identity", name.GetProperty("category").GetString());
        Assert.Equal(0.9, name.GetProperty("importance").GetDouble());
        Assert.Equal(Start, name.GetProperty("timestamp").GetDateTimeOffset());
        Assert.Equal(session.GetMemory().TokenCount, memory.GetProperty("token_count").GetInt32());
        Assert.True(memory.GetProperty("token_count").GetInt32() > 0);

        var analytics = root.GetProperty("analytics");
        Assert.Equal(1, analytics.GetProperty("conversation_count").GetInt32());
        Assert.Equal(4, analytics.GetProperty("message_count").GetInt32());
        Assert.Equal(90, analytics.GetProperty("total_duration_seconds").GetDouble());

        Assert.Equal("always_formal", root.GetProperty("preferences").GetProperty("formality").GetString());

        var conversation = Assert.Single(root.GetProperty("conversations").EnumerateArray());
        Assert.Equal("c1", conversation.GetProperty("conversation_id").GetString());
        var turns = conversation.GetProperty("turns").EnumerateArray().ToList();
        Assert.Equal(["user", "assistant", "user", "assistant"], turns.Select(t => t.GetProperty("role").GetString()));
        Assert.Equal(Alice.Introduction[0], turns[0].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Embeddings_are_stored_as_base64_float32_not_number_arrays()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var added = await session.AddMemoryAsync("User prefers formal language", "preference", 0.9);
        await session.SaveAsync();

        using var file = JsonDocument.Parse(await File.ReadAllBytesAsync(voxon.PathOf(session.SessionId)));
        var embedding = Assert.Single(file.RootElement.GetProperty("memory").GetProperty("entries").EnumerateArray()).GetProperty("embedding");

        Assert.Equal(JsonValueKind.String, embedding.ValueKind);
        var bytes = Convert.FromBase64String(embedding.GetString()!);
        Assert.Equal(added.Embedding!.Length * sizeof(float), bytes.Length);
        Assert.Equal(added.Embedding[0], BitConverter.ToSingle(bytes, 0));
        Assert.True(added.Embedding.Length >= 64);
    }
}
