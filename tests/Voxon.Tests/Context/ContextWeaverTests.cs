using CsCheck;
using Voxon.Context;
using Voxon.Memory;
using Voxon.Sessions;
using Voxon.Tests.Memory;

namespace Voxon.Tests.Context;

public sealed class ContextWeaverTests
{
    [Fact]
    public async Task Context_stays_within_the_token_budget_and_records_what_was_injected()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync(new SessionConfig { ContextTokenBudget = 60 });
        session.AddMemory("User's name is Alice", "identity", 0.9);
        for (var i = 0; i < 30; i++)
        {
            session.AddMemory($"User visited museum number {i} in Lisbon and loved the tiles", "travel", 0.5);
        }

        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("Which museums in Lisbon did I visit?");

        var context = conversation.LastContext!;
        Assert.True(context.TokenCount <= 60, $"context used {context.TokenCount} tokens");
        Assert.Equal(context.TokenCount, TokenCounter.Count(context.Text));
        Assert.NotEmpty(context.Injected);
        Assert.Equal("profile", context.Injected[0].Reason);
        Assert.Contains(context.Injected, i => i.Reason == "relevant");

        var userTurn = conversation.Transcript[0];
        Assert.Equal(context.Injected.Select(i => i.MemoryId), userTurn.InjectedMemoryIds);
    }

    [Fact]
    public async Task Only_relevant_memories_are_injected_besides_profile_facts()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        session.AddMemory("User's name is Alice", "identity", 0.9);
        session.AddMemory("User has a dentist appointment on Friday at ten", "scheduling", 0.6);
        session.AddMemory("User is allergic to peanuts", "health", 0.9);

        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("When is my dentist appointment?");

        var context = host.Chat.LastSystemText;
        Assert.Contains("Alice", context, StringComparison.Ordinal);
        Assert.Contains("dentist appointment on Friday", context, StringComparison.Ordinal);
        Assert.DoesNotContain("peanuts", context, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_memory_means_no_context_message()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("Hello there");
        Assert.Single(host.Chat.Requests[^1], m => m.Role == Microsoft.Extensions.AI.ChatRole.System);
        Assert.Empty(conversation.LastContext!.Injected);
    }

    [Fact]
    public void The_token_count_is_the_tokenizers_count_of_the_text_whatever_the_blocks_end_with()
    {
        // The count adds up the blocks': right only while every block boundary is one the tokenizer splits at too. Blocks
        // here end in punctuation, line breaks, spaces, emoji and digits, and sometimes the budget drops the last ones.
        var tokenizer = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForEncoding("o200k_base");
        var weaver = new ContextWeaver(new ContextWeaverOptions());
        var now = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var piece = Gen.OneOf<string>("coffee", " tea", ".", "!)", "\n", "\r\n", " ", "  ", "\t", "🐱", "Zoë", "12345", "'s", ":", "/", "?\n", "\n\n", "\u00A0");
        var text = piece.Array[1, 10].Select(p => string.Concat(p));
        Gen.Select(text.Array[1, 6], text.Array[0, 3], text, Gen.Int[5, 300], Gen.Bool).Sample((contents, values, style, budget, sensitive) =>
        {
            var store = new MemoryStore(1_000_000);
            for (var i = 0; i < contents.Length; i++)
            {
                store.Put(new MemoryEntry
                {
                    Id = $"mem_{i}",
                    Content = "coffee " + contents[i],
                    Category = i == 0 ? "identity" : "general",
                    Sensitive = sensitive && i == 1,
                    CreatedAt = now,
                    UpdatedAt = now,
                });
            }

            var context = values.Select((value, i) => ($"key{i}", value)).ToDictionary(p => p.Item1, p => p.value);
            var woven = weaver.Weave(new WeaveRequest(store, "coffee", ReadOnlyMemory<float>.Empty, _ => ScopeRelation.Own, budget, now, context, style));

            Assert.Equal(tokenizer.CountTokens(woven.Text), woven.TokenCount);
            Assert.InRange(woven.TokenCount, 0, budget);
        }, iter: 2_000);
    }
}
