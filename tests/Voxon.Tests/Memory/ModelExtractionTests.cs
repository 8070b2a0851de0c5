using Microsoft.Extensions.AI;
using Voxon.Memory;

namespace Voxon.Tests.Memory;

public sealed class ModelExtractionTests
{
    /// <summary>Answers extraction requests with <paramref name="extraction"/> and chat turns with a fixed line.</summary>
    private sealed class ExtractingModel(string extraction) : IChatClient
    {
        public int ExtractionCalls { get; private set; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var isExtraction = options?.ResponseFormat is ChatResponseFormatJson;
            ExtractionCalls += isExtraction ? 1 : 0;
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, isExtraction ? extraction : "Noted.")));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("Not used by these tests.");

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task A_configured_model_extracts_facts_the_rules_would_miss()
    {
        var model = new ExtractingModel("{\"facts\":[{\"content\":\"User's daughter Emma starts school in September\",\"category\":\"family\",\"importance\":0.8,\"slot\":null}]}");
        await using var host = new MemoryTestHost(model);
        var session = await host.NewSessionAsync();
        var conversation = await session.StartConversationAsync();

        await conversation.SendMessageAsync("Emma, my daughter, starts school in September");

        var entry = Assert.Single(session.GetMemory().Entries);
        Assert.Equal("User's daughter Emma starts school in September", entry.Content);
        Assert.Equal("family", entry.Category);
        Assert.Equal(1, model.ExtractionCalls);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"facts\":[{\"content\":\"x\",\"category\":\"Bad Category\",\"importance\":0.5}]}")]
    [InlineData("{\"facts\":[{\"content\":\"x\",\"category\":\"note\",\"importance\":7}]}")]
    [InlineData("{\"facts\":[{\"content\":\"x\",\"category\":\"note\",\"importance\":0.5,\"slot\":\"../../etc\"}]}")]
    [InlineData("{\"facts\":\"none\"}")]
    public async Task Invalid_model_output_falls_back_to_the_offline_rules(string extraction)
    {
        await using var host = new MemoryTestHost(new ExtractingModel(extraction));
        var session = await host.NewSessionAsync();
        var conversation = await session.StartConversationAsync();

        await conversation.SendMessageAsync("My name is Alice");

        Assert.Equal("User's name is Alice", Assert.Single(session.GetMemory().Entries).Content);
    }

    [Fact]
    public void Parse_accepts_an_empty_list_and_rejects_too_many_facts()
    {
        Assert.Empty(ChatMemoryExtractor.Parse("{\"facts\":[]}")!);
        var many = string.Join(",", Enumerable.Repeat("{\"content\":\"User x\",\"category\":\"note\",\"importance\":0.5}", 9));
        Assert.Null(ChatMemoryExtractor.Parse("{\"facts\":[" + many + "]}"));
    }

    [Fact]
    public async Task The_offline_engine_never_makes_extraction_calls()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("My name is Alice");
        Assert.Single(host.Chat.Requests);
    }

    /// <summary>Answers a turn only once the extraction request has arrived: a turn that extracted after replying would time out.</summary>
    private sealed class OverlapModel : IChatClient
    {
        private readonly TaskCompletionSource _extractionStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            if (options?.ResponseFormat is ChatResponseFormatJson)
            {
                _extractionStarted.TrySetResult();
                return new ChatResponse(new ChatMessage(ChatRole.Assistant, "{\"facts\":[{\"content\":\"User's name is Alice\",\"category\":\"identity\",\"importance\":0.9,\"slot\":\"identity.name\"}]}"));
            }

            await _extractionStarted.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            return new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hello Alice."));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("Not used by these tests.");

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Extraction_runs_alongside_the_reply_not_after_it()
    {
        await using var host = new MemoryTestHost(new OverlapModel());
        var session = await host.NewSessionAsync();
        var conversation = await session.StartConversationAsync();

        Assert.Equal("Hello Alice.", await conversation.SendMessageAsync("It's Alice here"));
        Assert.Equal("User's name is Alice", Assert.Single(session.GetMemory().Entries).Content);
    }
}
