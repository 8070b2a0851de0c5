using System.ClientModel;
using System.Text.Json;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Voxon.Agents;
using Voxon.Engine;
using Voxon.Storage;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Agents;

/// <summary>A <see cref="ChatClientAgent"/> over the loopback Chat Completions server, with Voxon memory and history
/// wired by <c>UseVoxon</c>; Voxon itself uses its offline extraction, so what the model receives is exact.</summary>
public class VoxonAgentTests
{
    private const string Instructions = "You are a patient tutor.";

    [Fact]
    public async Task A_fact_told_in_one_agent_session_reaches_the_model_in_the_next_session_of_the_same_user()
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = new TestVoxon();
        var agent = Agent(server, voxon.Client);

        var first = await agent.CreateSessionAsync();
        await TurnAsync(server, agent, first, "My name is Alice and I'm interested in quantum physics", "Nice to meet you, Alice.");

        var second = await agent.CreateSessionAsync();
        var response = await TurnAsync(server, agent, second, "What should we study today?", "Let's look at superposition.");

        Assert.Equal("Let's look at superposition.", response.Text);
        var messages = Messages(server.Requests[^1]);
        var system = Assert.Single(messages, m => m.Role == "system");
        Assert.Contains(Instructions, system.Content);
        Assert.Contains("Alice", system.Content);
        Assert.Contains("quantum physics", system.Content);

        // The fact came through memory, not through the first session's history: the second session's history is its own.
        Assert.Equal(["What should we study today?"], messages.Where(m => m.Role == "user").Select(m => m.Content));

        // Both agent sessions are conversations of one Voxon session, which holds the exchange and the memories.
        var provider = Provider(agent);
        var one = await provider.GetConversationAsync(first);
        var two = await provider.GetConversationAsync(second);
        Assert.Same(one.Session, two.Session);
        Assert.NotEqual(one.ConversationId, two.ConversationId);
        Assert.Equal(["My name is Alice and I'm interested in quantum physics", "Nice to meet you, Alice."], one.Transcript.Select(t => t.Content));
        Assert.Contains(one.Session.GetMemory().Entries, e => e.Content.Contains("Alice", StringComparison.Ordinal));
        Assert.NotNull(two.Transcript[0].InjectedMemoryIds);
    }

    [Fact]
    public async Task A_serialized_and_deserialized_agent_session_goes_on_with_the_same_Voxon_conversation()
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = new TestVoxon();
        var agent = Agent(server, voxon.Client);
        var session = await agent.CreateSessionAsync();
        await TurnAsync(server, agent, session, "My name is Alice", "Hello Alice.");
        var before = await Provider(agent).GetConversationAsync(session);

        var json = await agent.SerializeSessionAsync(session);
        var text = json.GetRawText();
        Assert.Contains(before.Session.SessionId, text, StringComparison.Ordinal);
        Assert.Contains(before.ConversationId, text, StringComparison.Ordinal);
        Assert.DoesNotContain("My name is Alice", text, StringComparison.Ordinal);   // the history stays in Voxon's storage

        var restored = await agent.DeserializeSessionAsync(JsonSerializer.Deserialize<JsonElement>(text));
        await TurnAsync(server, agent, restored, "What's my name?", "You are Alice.");

        var after = await Provider(agent).GetConversationAsync(restored);
        Assert.Same(before, after);
        Assert.Equal(["My name is Alice", "Hello Alice.", "What's my name?", "You are Alice."], after.Transcript.Select(t => t.Content));
        Assert.Equal(
            [("user", "My name is Alice"), ("assistant", "Hello Alice."), ("user", "What's my name?")],
            Messages(server.Requests[^1]).Where(m => m.Role != "system").Select(m => (m.Role, m.Content)));
        Assert.Single(await voxon.Client.ListSessionsAsync("alice"));
    }

    [Fact]
    public async Task The_history_provider_returns_the_stored_transcript_after_a_restart()
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = new TestVoxon();
        var agent = Agent(server, voxon.Client);
        var session = await agent.CreateSessionAsync();
        await TurnAsync(server, agent, session, "My name is Alice", "Hello Alice.");
        await TurnAsync(server, agent, session, "I'm interested in chess", "Chess it is.");
        var serialized = await agent.SerializeSessionAsync(session);

        // A new process: a new client over the same storage, a new agent, the agent session from its serialized form.
        var restarted = Agent(server, voxon.NewClient());
        var restored = await restarted.DeserializeSessionAsync(serialized);
#pragma warning disable MAAI001 // Building an InvokingContext by hand is marked experimental; it calls the provider as the agent does.
        var history = await restarted.ChatHistoryProvider!.InvokingAsync(new ChatHistoryProvider.InvokingContext(restarted, restored, []));
#pragma warning restore MAAI001

        Assert.Equal(
            [(ChatRole.User, "My name is Alice"), (ChatRole.Assistant, "Hello Alice."), (ChatRole.User, "I'm interested in chess"), (ChatRole.Assistant, "Chess it is.")],
            history.Select(m => (m.Role, m.Text)));

        await TurnAsync(server, restarted, restored, "What do I like?", "You like chess.");
        Assert.Equal(5, Messages(server.Requests[^1]).Count(m => m.Role != "system"));
        Assert.Equal(6, (await Provider(restarted).GetConversationAsync(restored)).Transcript.Count);
    }

    [Fact]
    public async Task Storage_down_surfaces_as_a_storage_exception_and_loses_no_turn()
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = new TestVoxon();
        var storage = new SwitchableStorage(new FileSessionStorage(voxon.StorageFolder));
        var agent = Agent(server, voxon.NewClient(storage));
        var session = await agent.CreateSessionAsync();
        await TurnAsync(server, agent, session, "My name is Alice", "Hello Alice.");

        storage.Down = true;
        var error = await Assert.ThrowsAsync<VoxonStorageException>(() => TurnAsync(server, agent, session, "I'm interested in chess", "Chess it is."));
        Assert.Equal("save", error.Operation);
        Assert.Contains("storage is down", error.Message, StringComparison.Ordinal);

        storage.Down = false;
        await TurnAsync(server, agent, session, "What do I like?", "You like chess.");

        // Everything, including the exchange whose save failed, is in storage.
        await using var reader = voxon.NewClient();
        var sessionId = (await Provider(agent).GetConversationAsync(session)).Session.SessionId;
        var stored = await reader.LoadSessionAsync(sessionId);
        Assert.Equal(
            ["My name is Alice", "Hello Alice.", "I'm interested in chess", "Chess it is.", "What do I like?", "You like chess."],
            stored.GetTranscript(Assert.Single(stored.Conversations).ConversationId).Select(t => t.Content));
        Assert.Contains(stored.GetMemory().Entries, e => e.Content.Contains("chess", StringComparison.Ordinal));

        // Down while a new process loads the session: the run fails before the model is called.
        var down = new SwitchableStorage(new FileSessionStorage(voxon.StorageFolder)) { Down = true };
        var restarted = Agent(server, voxon.NewClient(down));
        var restored = await restarted.DeserializeSessionAsync(await agent.SerializeSessionAsync(session));
        var calls = server.Requests.Count;
        await Assert.ThrowsAsync<VoxonStorageException>(() => restarted.RunAsync("Are you there?", restored));
        Assert.Equal(calls, server.Requests.Count);
        down.Down = false;
        await restarted.RunAsync("Are you there?", restored);
        Assert.Equal(8, (await Provider(restarted).GetConversationAsync(restored)).Transcript.Count);
    }

    [Fact]
    public async Task A_failed_model_call_records_nothing_and_the_next_run_goes_on()
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = new TestVoxon();
        var agent = Agent(server, voxon.Client);
        var session = await agent.CreateSessionAsync();

        server.Status = 500;
        await Assert.ThrowsAsync<ClientResultException>(() => agent.RunAsync("My name is Alice", session));
        server.Status = 200;
        await TurnAsync(server, agent, session, "Hello", "Hi there.");

        var conversation = await Provider(agent).GetConversationAsync(session);
        Assert.Equal(["Hello", "Hi there."], conversation.Transcript.Select(t => t.Content));
        Assert.Empty(conversation.Session.GetMemory().Entries);
    }

    [Fact]
    public async Task A_cancelled_agent_run_records_the_users_words_and_the_next_run_goes_on()
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = new TestVoxon();
        var agent = Agent(server, voxon.Client);
        var session = await agent.CreateSessionAsync();
        server.Reply = "Nice to meet you, Alice, and welcome to your first lesson.";
        server.StallAfterWords = 3;
        server.Stall = TimeSpan.FromSeconds(2);

        // The user stops the reply while it streams: the words were said, as with a cancelled SendMessageAsync.
        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in agent.RunStreamingAsync("My name is Alice", session, cancellationToken: cancel.Token))
            {
                if (update.Text.Length > 0)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        var conversation = await Provider(agent).GetConversationAsync(session);
        Assert.Equal(["My name is Alice"], conversation.Transcript.Select(t => t.Content));
        Assert.Contains(conversation.Session.GetMemory().Entries, e => e.Content.Contains("Alice", StringComparison.Ordinal));
        var stored = await voxon.NewClient().LoadSessionAsync(conversation.Session.SessionId);
        Assert.Equal(["My name is Alice"], stored.GetTranscript(conversation.ConversationId).Select(t => t.Content));

        server.StallAfterWords = null;
        await TurnAsync(server, agent, session, "What's my name?", "You are Alice.");
        Assert.Equal(["My name is Alice", "What's my name?", "You are Alice."], conversation.Transcript.Select(t => t.Content));
    }

    [Fact]
    public async Task A_streamed_agent_run_is_recorded_once_with_the_whole_reply()
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = new TestVoxon();
        var agent = Agent(server, voxon.Client);
        var session = await agent.CreateSessionAsync();
        server.Reply = "Nice to meet you, Alice.";

        var chunks = new List<string>();
        await foreach (var update in agent.RunStreamingAsync("My name is Alice", session))
        {
            chunks.Add(update.Text);
        }

        Assert.True(chunks.Count(c => c.Length > 0) > 1);
        var conversation = await Provider(agent).GetConversationAsync(session);
        Assert.Equal(["My name is Alice", "Nice to meet you, Alice."], conversation.Transcript.Select(t => t.Content));
        var stored = await voxon.NewClient().LoadSessionAsync(conversation.Session.SessionId);
        Assert.Equal(2, stored.GetTranscript(conversation.ConversationId).Count);
    }

    [Fact]
    public async Task The_offline_engine_answers_an_agent_from_the_memory_woven_into_its_instructions()
    {
        await using var voxon = new TestVoxon();
        var agent = voxon.Client.ChatClient.AsAIAgent(new ChatClientAgentOptions().UseVoxon(voxon.Client, "alice"));
        await agent.RunAsync("My name is Alice", await agent.CreateSessionAsync());

        var reply = await agent.RunAsync("What's my name?", await agent.CreateSessionAsync());

        Assert.Equal("Your name is Alice.", reply.Text);
    }

    [Fact]
    public async Task UseVoxon_refuses_to_replace_another_history_provider_and_a_session_of_another_user()
    {
        await using var server = LoopbackChatServer.Start();
        await using var voxon = new TestVoxon();
        var options = new ChatClientAgentOptions { ChatHistoryProvider = new InMemoryChatHistoryProvider() };
        Assert.Throws<InvalidOperationException>(() => options.UseVoxon(voxon.Client, "alice"));
        Assert.Throws<ArgumentException>(() => new ChatClientAgentOptions().UseVoxon(voxon.Client, "../bob"));
        var model = new ModelOptions { Endpoint = server.Endpoint, Model = "test-model", ApiKey = "k" }.CreateChatClient();
        var historyOnly = model.AsAIAgent(new ChatClientAgentOptions { ChatHistoryProvider = new VoxonContextProvider(voxon.Client, "alice").CreateChatHistoryProvider() });
        var historySession = await historyOnly.CreateSessionAsync();
        var unwired = await Assert.ThrowsAsync<InvalidOperationException>(() => historyOnly.RunAsync("Hello", historySession));
        Assert.Contains("UseVoxon", unwired.Message, StringComparison.Ordinal);
        Assert.Empty(server.Requests);

        var alices = Agent(server, voxon.Client);
        var session = await alices.CreateSessionAsync();
        await alices.RunAsync("My name is Alice", session);
        var bobs = Agent(server, voxon.Client, "bob");
        var stolen = await bobs.DeserializeSessionAsync(await alices.SerializeSessionAsync(session));
        var calls = server.Requests.Count;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => bobs.RunAsync("What's my name?", stolen));
        Assert.Contains("another user", error.Message, StringComparison.Ordinal);
        Assert.Equal(calls, server.Requests.Count);
    }

    /// <summary>One run of <paramref name="agent"/>, with the loopback model answering <paramref name="reply"/>.</summary>
    private static Task<AgentResponse> TurnAsync(LoopbackChatServer server, ChatClientAgent agent, AgentSession session, string words, string reply)
    {
        server.Reply = reply;
        return agent.RunAsync(words, session);
    }

    private static ChatClientAgent Agent(LoopbackChatServer server, VoxonClient voxon, string userId = "alice")
    {
        var model = new ModelOptions { Endpoint = server.Endpoint, Model = "test-model", ApiKey = "k" }.CreateChatClient();
        return model.AsAIAgent(new ChatClientAgentOptions { Name = "Tutor", ChatOptions = new() { Instructions = Instructions } }.UseVoxon(voxon, userId));
    }

    private static VoxonContextProvider Provider(ChatClientAgent agent) => agent.AIContextProviders!.OfType<VoxonContextProvider>().Single();

    private static List<(string Role, string Content)> Messages(RecordedHttpRequest request) =>
        [.. request.Json.GetProperty("messages").EnumerateArray().Select(m => (m.GetProperty("role").GetString()!, Content(m.GetProperty("content"))))];

    private static string Content(JsonElement content) => content.ValueKind == JsonValueKind.String
        ? content.GetString()!
        : string.Concat(content.EnumerateArray().Select(part => part.GetProperty("text").GetString()));

    /// <summary>File storage that can be switched off, as a database that went away would be.</summary>
    private sealed class SwitchableStorage(SessionStorage inner) : DelegatingSessionStorage(inner)
    {
        public volatile bool Down;

        public override Task SaveAsync(SessionDocument document, CancellationToken cancellationToken = default) =>
            Down ? Fail("save", document.SessionId) : base.SaveAsync(document, cancellationToken);

        public override Task SaveChangesAsync(SessionChangeSet changes, CancellationToken cancellationToken = default) =>
            Down ? Fail("save", changes.SessionId) : base.SaveChangesAsync(changes, cancellationToken);

        public override Task<SessionDocument?> LoadAsync(string sessionId, CancellationToken cancellationToken = default) =>
            Down ? Fail<SessionDocument?>("load", sessionId) : base.LoadAsync(sessionId, cancellationToken);

        public override Task<IReadOnlyList<SessionSummary>> ListAsync(string? userId = null, CancellationToken cancellationToken = default) =>
            Down ? Fail<IReadOnlyList<SessionSummary>>("list", null) : base.ListAsync(userId, cancellationToken);

        private Task Fail(string operation, string? sessionId) => Fail<bool>(operation, sessionId);

        private Task<T> Fail<T>(string operation, string? sessionId) =>
            Task.FromException<T>(new VoxonStorageException(BackendName, operation, sessionId, "storage is down", isTransient: true));
    }
}
