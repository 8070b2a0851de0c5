using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Voxon.Engine.Speech;
using Voxon.Memory.Search;
using Voxon.Sessions;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Turns;

// MEAI001: the speech interfaces of Microsoft.Extensions.AI are experimental; the voice pipeline is built on them.
#pragma warning disable MEAI001

/// <summary>Preparing a turn from the words the user is probably saying (an interim transcript), with the real embedding model.</summary>
public class PrepareTests
{
    private const string Question = "Where does my sister live?";

    [Fact]
    public async Task Prepared_words_are_embedded_once_and_the_turn_does_not_call_the_model_for_them_again()
    {
        var model = new CountingEmbeddings();
        await using var voxon = new TestVoxon(configure: o => o.EmbeddingGenerator = model);
        var session = await voxon.CreateSessionAsync(new SessionConfig { RedactPii = true });
        await session.AddMemoryAsync("User's sister lives in Oslo");
        var conversation = await session.StartConversationAsync();
        const string words = "Write to alice@example.com: where does my sister live?";

        await conversation.PrepareAsync(words);
        var prepared = model.Queries();
        await foreach (var _ in conversation.StreamMessageAsync(words))
        {
        }

        // The turn embeds the redacted words; prepare embedded exactly those, so the turn hit the cache.
        var query = Assert.Single(prepared);
        Assert.DoesNotContain("alice@example.com", query, StringComparison.Ordinal);
        Assert.Equal(conversation.Transcript[0].Content, query);
        Assert.Equal(prepared, model.Queries());
        Assert.Contains(conversation.LastContext!.Injected, i => session.GetMemory().Entries.Single(m => m.Id == i.MemoryId).Content.Contains("Oslo", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Preparing_other_words_changes_nothing_the_turn_injects()
    {
        var model = new CountingEmbeddings();
        await using var voxon = new TestVoxon(configure: o => o.EmbeddingGenerator = model);
        var plain = await StartAsync(voxon, "plain");
        var prepared = await StartAsync(voxon, "prepared");

        await plain.SendMessageAsync(Question);
        await prepared.PrepareAsync("Where does my brother work?");
        await prepared.SendMessageAsync(Question);

        Assert.Equal(Injected(plain), Injected(prepared));
        Assert.NotEmpty(Injected(prepared));
        Assert.Equal(plain.Transcript.Select(t => t.Content), prepared.Transcript.Select(t => t.Content));
        Assert.Equal(2, model.Queries().Count(q => q == Question));                    // the prepared session encoded its final words itself
    }

    [Fact]
    public async Task Prepare_records_nothing_raises_no_events_and_validates_like_a_turn()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        await session.AddMemoryAsync("User's sister lives in Oslo");
        var conversation = await session.StartConversationAsync();
        var events = new List<string>();
        session.Events.On("*", e => events.Add(e.Type));
        var memories = session.GetMemory().Entries.Select(m => (m.Id, m.Content, m.UpdatedAt)).ToList();

        await conversation.PrepareAsync("My name is Bob and I live in Paris");

        Assert.Empty(events);
        Assert.Empty(conversation.Transcript);
        Assert.Null(conversation.LastContext);
        Assert.Equal(memories, session.GetMemory().Entries.Select(m => (m.Id, m.Content, m.UpdatedAt)));
        Assert.Equal(0, conversation.GetAnalytics().TurnCount);
        await Assert.ThrowsAsync<ArgumentException>(() => conversation.PrepareAsync(" "));
        await Assert.ThrowsAsync<ArgumentException>(() => conversation.PrepareAsync(new string('a', Session.MaxMessageLength + 1)));
        await conversation.EndAsync();
        await Assert.ThrowsAsync<SessionStateException>(() => conversation.PrepareAsync(Question));
    }

    [Fact]
    public async Task Voice_pipeline_prepares_from_interim_text_while_the_recognizer_is_still_listening()
    {
        var model = new CountingEmbeddings();
        await using var voxon = new TestVoxon(configure: o => o.EmbeddingGenerator = model);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();
        var recognizer = new InterimRecognizer(model, ["Where does", " my sister live?"], Question);
        using var espeak = new EspeakTextToSpeechClient();

        var spoken = await new VoicePipeline(espeak, recognizer).RespondAsync(conversation, new MemoryStream(WavAudio.FromPcm16(new byte[3_200], 16_000)));

        Assert.Equal(Question, spoken.Heard);
        Assert.True(recognizer.SawPreparedInterim, "the last interim text was embedded before the recognizer gave its final text");
        Assert.Equal(1, model.Queries().Count(q => q == Question));                   // the turn reused it
        Assert.Equal(Question, conversation.Transcript[0].Content);
        Assert.Equal(2, conversation.Transcript.Count);
    }

    private static async Task<Voxon.Conversations.Conversation> StartAsync(TestVoxon voxon, string user)
    {
        var session = await voxon.CreateSessionAsync(userId: user);
        await session.AddMemoryAsync("User's sister lives in Oslo");
        await session.AddMemoryAsync("User's brother works at a bakery");
        await session.AddMemoryAsync("User likes green tea");
        return await session.StartConversationAsync();
    }

    private static List<(string Content, string Reason)> Injected(Voxon.Conversations.Conversation conversation) =>
        [.. conversation.LastContext!.Injected.Select(i => (conversation.Session.GetMemory().Entries.Single(m => m.Id == i.MemoryId).Content, i.Reason))];

    /// <summary>The real default model, counting the texts it embeds as queries.</summary>
    private sealed class CountingEmbeddings : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly List<string> _queries = [];

        public List<string> Queries()
        {
            lock (_queries)
            {
                return [.. _queries];
            }
        }

        public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            var texts = values.ToList();
            if (options?.AdditionalProperties?.TryGetValue(LocalEmbeddingGenerator.InputTypeKey, out var kind) == true && Equals(kind, LocalEmbeddingGenerator.QueryInputType))
            {
                lock (_queries)
                {
                    _queries.AddRange(texts);
                }
            }

            return await ArcticXsEmbeddingGenerator.Shared.GenerateAsync(texts, options, cancellationToken);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => ArcticXsEmbeddingGenerator.Shared.GetService(serviceType, serviceKey);

        public void Dispose()
        {
        }
    }

    /// <summary>A recognizer that streams interim pieces, then waits (up to 10 s) for the interim text to be embedded
    /// before it gives the final text, as a real one listens through the end-of-speech silence.</summary>
    private sealed class InterimRecognizer(CountingEmbeddings model, string[] pieces, string final) : ISpeechToTextClient
    {
        public bool SawPreparedInterim { get; private set; }

        public async IAsyncEnumerable<SpeechToTextResponseUpdate> GetStreamingTextAsync(Stream audioSpeechStream, SpeechToTextOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            foreach (var piece in pieces)
            {
                yield return new SpeechToTextResponseUpdate(piece) { Kind = SpeechToTextResponseUpdateKind.TextUpdating };
            }

            var interim = string.Concat(pieces);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!model.Queries().Contains(interim) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10, cancellationToken);
            }

            SawPreparedInterim = model.Queries().Contains(interim);
            yield return new SpeechToTextResponseUpdate(final) { Kind = SpeechToTextResponseUpdateKind.TextUpdated };
        }

        public Task<SpeechToTextResponse> GetTextAsync(Stream audioSpeechStream, SpeechToTextOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The pipeline should have streamed.");

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
