using Microsoft.Extensions.Time.Testing;
using Voxon.Conversations;
using Voxon.Events;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Turns;

/// <summary>Streamed turns, barge-in and cancellation through the turn pipeline.</summary>
public class VoiceTurnTests
{
    private const string LongReply = "Noted. You also said your name is Bob and that you live in Paris.";

    [Fact]
    public async Task Streamed_turn_is_recorded_exactly_once_and_only_when_the_stream_ends()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My name is Alice");
        var sent = new List<SessionEvent>();
        session.Events.On(SessionEventNames.MessageSent, sent.Add);

        var chunks = new List<string>();
        await foreach (var chunk in conversation.StreamMessageAsync("What's my name?"))
        {
            chunks.Add(chunk);
            Assert.Equal(2, conversation.Transcript.Count); // nothing of this turn yet
            Assert.Empty(sent);
        }

        Assert.True(chunks.Count > 1, "the reply arrives in several chunks");
        var reply = string.Concat(chunks).Trim();
        Assert.Contains("Alice", reply, StringComparison.Ordinal);
        Assert.Equal(4, conversation.Transcript.Count);
        var assistant = conversation.Transcript[^1];
        Assert.Equal(reply, assistant.Content);
        Assert.False(assistant.Interrupted);
        Assert.Null(assistant.GeneratedContent);
        Assert.Single(sent);
    }

    [Fact]
    public async Task Time_to_first_token_is_recorded_on_the_reply_and_in_conversation_analytics()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var client = new RecordingChatClient(time, TimeSpan.FromMilliseconds(250));
        await using var voxon = new TestVoxon(client, time);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        await foreach (var _ in conversation.StreamMessageAsync("Hello there"))
        {
        }

        await conversation.SendMessageAsync("And again");

        Assert.Equal(250, conversation.Transcript[1].TimeToFirstTokenMs);
        Assert.Null(conversation.Transcript[3].TimeToFirstTokenMs); // a whole reply has no first token
        Assert.Equal(250, conversation.GetAnalytics().AvgTimeToFirstTokenMs);
    }

    [Fact]
    public async Task Cancelling_a_turn_keeps_the_users_words_and_what_they_said_about_themselves()
    {
        var client = new RecordingChatClient { Hang = true };
        await using var voxon = new TestVoxon(client);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();
        using var cancel = new CancellationTokenSource();
        var turn = conversation.SendMessageAsync("My name is Alice", cancel.Token);
        while (client.Requests.Count == 0)
        {
            await Task.Delay(5);
        }

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => turn);
        var user = Assert.Single(conversation.Transcript);
        Assert.Equal((TurnRole.User, "My name is Alice"), (user.Role, user.Content));
        Assert.Contains(session.GetMemory().Entries, e => e.Content.Contains("Alice", StringComparison.Ordinal));
        client.Hang = false;
        Assert.Contains("Alice", await conversation.SendMessageAsync("What's my name?"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_turn_queued_behind_another_keeps_the_users_words_in_the_order_they_were_said()
    {
        var client = new RecordingChatClient { Hang = true };
        await using var voxon = new TestVoxon(client);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();
        using var cancelFirst = new CancellationTokenSource();
        using var cancelQueued = new CancellationTokenSource();
        var first = conversation.SendMessageAsync("What is the weather like?", cancelFirst.Token);
        while (client.Requests.Count == 0)
        {
            await Task.Delay(5);
        }

        var queued = conversation.SendMessageAsync("My name is Alice", cancelQueued.Token);
        await cancelQueued.CancelAsync();
        await cancelFirst.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.Equal(
            [(TurnRole.User, "What is the weather like?"), (TurnRole.User, "My name is Alice")],
            conversation.Transcript.Select(t => (t.Role, t.Content)));
        Assert.Single(client.Requests);
        Assert.Contains(session.GetMemory().Entries, e => e.Content.Contains("Alice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancelling_a_stream_keeps_the_users_words_and_the_part_delivered_as_interrupted()
    {
        var client = new RecordingChatClient { FixedReply = LongReply };
        await using var voxon = new TestVoxon(client);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();
        using var cancel = new CancellationTokenSource();

        var delivered = new List<string>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in conversation.StreamMessageAsync("Tell me something", cancel.Token))
            {
                delivered.Add(chunk);
                if (delivered.Count == 2)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        Assert.Equal(2, delivered.Count);
        Assert.Equal(2, conversation.Transcript.Count);
        Assert.Equal("Tell me something", conversation.Transcript[0].Content);
        var assistant = conversation.Transcript[1];
        Assert.Equal("Noted. You", assistant.Content);
        Assert.True(assistant.Interrupted);
    }

    [Fact]
    public async Task Interrupting_a_stream_by_heard_text_stores_what_was_heard_and_keeps_the_generated_text_beside_it()
    {
        var client = new RecordingChatClient { FixedReply = LongReply };
        await using var voxon = new TestVoxon(client);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();
        var interrupted = new List<SessionEvent>();
        session.Events.On(SessionEventNames.ConversationInterrupted, interrupted.Add);

        var delivered = new List<string>();
        await foreach (var chunk in conversation.StreamMessageAsync("Tell me something"))
        {
            delivered.Add(chunk);
            if (delivered.Count == 4)
            {
                Assert.True(conversation.Interrupt("Noted."));
            }
        }

        Assert.Equal(4, delivered.Count); // the stream stopped at the interruption, without an exception
        var assistant = conversation.Transcript[^1];
        Assert.Equal("Noted.", assistant.Content);
        Assert.Equal(string.Concat(delivered).Trim(), assistant.GeneratedContent);
        Assert.True(assistant.Interrupted);
        Assert.Equal(1, conversation.GetAnalytics().InterruptionCount);
        Assert.Same(assistant, Assert.Single(interrupted).Data);
        Assert.Equal(2, conversation.Transcript.Count);

        await conversation.SendMessageAsync("Go on");
        Assert.DoesNotContain(client.Last.Dialogue, m => m.Text.Contains("said your", StringComparison.Ordinal));
        Assert.Contains(client.Last.Dialogue, m => m.Text == "Noted.");
    }

    [Fact]
    public async Task Interrupting_by_played_audio_keeps_the_share_of_words_played()
    {
        var client = new RecordingChatClient { FixedReply = "One two three four five six seven eight." };
        await using var voxon = new TestVoxon(client);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        // The whole reply arrived (text is faster than speech); the user cut in a quarter of the way through the audio.
        await foreach (var _ in conversation.StreamMessageAsync("Count to eight"))
        {
        }

        Assert.True(conversation.Interrupt(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4)));

        var assistant = conversation.Transcript[^1];
        Assert.Equal("One two", assistant.Content);
        Assert.Equal("One two three four five six seven eight.", assistant.GeneratedContent);
        Assert.False(conversation.Interrupt(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4))); // already interrupted
        Assert.Throws<ArgumentOutOfRangeException>(() => conversation.Interrupt(TimeSpan.FromSeconds(1), TimeSpan.Zero));
    }

    [Fact]
    public async Task Interrupting_by_played_audio_mid_stream_counts_the_words_delivered_so_far()
    {
        var client = new RecordingChatClient { FixedReply = "One two three four five six seven eight." };
        await using var voxon = new TestVoxon(client);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        var delivered = 0;
        await foreach (var _ in conversation.StreamMessageAsync("Count to eight"))
        {
            if (++delivered == 4)
            {
                conversation.Interrupt(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4)); // of the audio of 4 words
            }
        }

        Assert.Equal("One two three", conversation.Transcript[^1].Content);
        Assert.Equal("One two three four", conversation.Transcript[^1].GeneratedContent);
    }

    [Fact]
    public async Task The_unheard_part_of_a_reply_feeds_neither_memory_nor_the_next_prompt()
    {
        var client = new RecordingChatClient { FixedReply = LongReply };
        await using var voxon = new TestVoxon(client);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        await conversation.SendMessageAsync("I enjoy chess");
        conversation.Interrupt("Noted.");
        client.FixedReply = null;
        var reply = await conversation.SendMessageAsync("What's my name?");

        Assert.DoesNotContain(session.GetMemory().Entries, e => e.Content.Contains("Bob", StringComparison.Ordinal) || e.Content.Contains("Paris", StringComparison.Ordinal));
        Assert.DoesNotContain("Bob", client.AllText.Replace(LongReply, string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("Bob", reply, StringComparison.Ordinal);
        Assert.Contains(session.GetMemory().Entries, e => e.Content.Contains("chess", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_interrupted_reply_round_trips_through_storage_and_export()
    {
        var client = new RecordingChatClient { FixedReply = LongReply };
        await using var voxon = new TestVoxon(client);
        var session = await voxon.CreateSessionAsync();
        await using (var conversation = await session.StartConversationAsync("c1"))
        {
            await conversation.SendMessageAsync("Tell me something");
            await session.SaveAsync(); // the reply is stored whole first: the interruption must rewrite it
            conversation.Interrupt("Noted. You also");
        }

        var loaded = await voxon.NewClient().LoadSessionAsync(session.SessionId);
        var stored = loaded.GetTranscript("c1")[^1];
        Assert.Equal(("Noted. You also", LongReply, true), (stored.Content, stored.GeneratedContent, stored.Interrupted));

        var export = await loaded.ExportFullAsync();
        Assert.Contains("\"generated_content\":", export.ToString(), StringComparison.Ordinal);
        await using var elsewhere = new TestVoxon();
        var imported = await elsewhere.Client.ImportSessionAsync(export);
        Assert.Equal(stored, imported.GetTranscript("c1")[^1]);
    }

    [Fact]
    public async Task An_externally_produced_exchange_is_woven_and_recorded_through_the_same_pipeline()
    {
        // What a realtime speech engine does: weave for the transcribed words, let its own model answer, record as heard.
        var client = new RecordingChatClient();
        await using var voxon = new TestVoxon(client);
        var session = await voxon.CreateSessionAsync();
        await session.AddMemoryAsync("User is interested in quantum physics", "interest");
        var conversation = await session.StartConversationAsync();
        var events = new List<string>();
        session.Events.On("*", e => events.Add(e.Type));

        var input = await session.Turns.PrepareAsync(conversation.State, session.Turns.Redact("My name is Alice, tell me about quantum physics"), TimeSpan.FromSeconds(2), default);
        var reply = new Voxon.Turns.TurnReply { Generated = "Hello Alice, you like quantum physics.", Heard = "Hello Alice", Interrupted = true };
        var (user, assistant) = await session.Turns.RecordAsync(conversation, input, reply, session.Turns.StartExtraction(input.Words, default), default);

        Assert.Contains("quantum physics", input.Context.Text, StringComparison.Ordinal);
        Assert.Empty(client.Requests); // the model was not Voxon's
        Assert.Equal([user!, assistant!], conversation.Transcript);
        Assert.Equal(("Hello Alice", "Hello Alice, you like quantum physics."), (assistant!.Content, assistant.GeneratedContent));
        Assert.Contains(session.GetMemory().Entries, e => e.Content == "User's name is Alice");
        Assert.Equal(1, conversation.GetAnalytics().InterruptionCount);
        Assert.Equal(
            [SessionEventNames.MessageReceived, SessionEventNames.MessageSent, SessionEventNames.ConversationInterrupted, SessionEventNames.MemoryAdded],
            events.Where(e => e.StartsWith("message.", StringComparison.Ordinal) || e.StartsWith("conversation.", StringComparison.Ordinal) || e == SessionEventNames.MemoryAdded));
    }

    [Fact]
    public async Task Heard_text_cut_inside_its_last_character_is_stored_up_to_the_character_before()
    {
        // An application cuts the reply where the audio stopped; storage could not hold half of the emoji there.
        const string Reply = "Here is a cat \U0001F431 and more words after it.";
        var client = new RecordingChatClient { FixedReply = Reply };
        await using var voxon = new TestVoxon(client);
        var session = await voxon.CreateSessionAsync();
        await using (var conversation = await session.StartConversationAsync("c1"))
        {
            await conversation.SendMessageAsync("Show me a cat");
            Assert.Throws<ArgumentException>(() => conversation.Interrupt("Here " + Reply[15] + " is"));
            Assert.False(conversation.Transcript[^1].Interrupted);
            Assert.True(conversation.Interrupt(Reply[..15]));
        }

        await session.SaveAsync();
        var stored = (await voxon.NewClient().LoadSessionAsync(session.SessionId)).GetTranscript("c1")[^1];
        Assert.Equal(("Here is a cat", Reply, true), (stored.Content, stored.GeneratedContent, stored.Interrupted));
    }

    [Fact]
    public async Task Barge_in_while_a_finished_stream_is_being_recorded_amends_that_reply_not_the_one_before()
    {
        // The reply's text is complete, its audio still playing, and the turn waits for the model's memory extraction.
        var client = new GatedExtractionChatClient { Reply = "First answer." };
        await using var voxon = new TestVoxon(client);
        var conversation = await (await voxon.CreateSessionAsync()).StartConversationAsync();
        await conversation.SendMessageAsync("Hello there");
        client.Reply = "Second answer, a longer one.";
        client.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var delivered = 0;
        var streamed = Task.Run(async () =>
        {
            await foreach (var _ in conversation.StreamMessageAsync("Tell me more"))
            {
                Interlocked.Increment(ref delivered);
            }
        });
        while (Volatile.Read(ref delivered) < 5)
        {
            await Task.Delay(5);
        }

        await Task.Delay(100);                        // the stream has ended; recording waits at the extraction
        Assert.False(streamed.IsCompleted);
        Assert.True(conversation.Interrupt("Second answer,"));
        Assert.False(conversation.Interrupt("Second"));   // already interrupted
        client.Gate.SetResult();
        await streamed;

        Assert.Equal(
            [("First answer.", null, false), ("Second answer,", "Second answer, a longer one.", true)],
            conversation.Transcript.Where(t => t.Role == TurnRole.Assistant).Select(t => (t.Content, t.GeneratedContent, t.Interrupted)));
        Assert.Equal(1, conversation.GetAnalytics().InterruptionCount);
    }

    /// <summary>A model (not the offline engine, so memory extraction asks it too) whose extraction answers only once
    /// <see cref="Gate"/> opens; replies stream word by word.</summary>
    private sealed class GatedExtractionChatClient : Microsoft.Extensions.AI.IChatClient
    {
        public string Reply { get; set; } = "Hello.";

        public TaskCompletionSource? Gate { get; set; }

        public async Task<Microsoft.Extensions.AI.ChatResponse> GetResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, Microsoft.Extensions.AI.ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            if (options?.ResponseFormat is null)
            {
                return new(new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.Assistant, Reply));
            }

            if (Gate is { } gate)
            {
                await gate.Task.WaitAsync(cancellationToken);
            }

            return new(new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.Assistant, """{"facts":[]}"""));
        }

        public async IAsyncEnumerable<Microsoft.Extensions.AI.ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, Microsoft.Extensions.AI.ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            foreach (var word in System.Text.RegularExpressions.Regex.Matches(Reply, @"\S+\s*").Select(m => m.Value))
            {
                await Task.Yield();
                yield return new(Microsoft.Extensions.AI.ChatRole.Assistant, word);
            }
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Interrupt_without_a_reply_returns_false()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();

        Assert.False(conversation.Interrupt("anything"));
        Assert.Empty(conversation.Transcript);
    }
}
