using Voxon.Events;
using Voxon.Memory;
using Voxon.Security;
using Voxon.Sessions;

namespace Voxon.Tests.Memory;

public sealed class RedactionTests
{
    private const string Secret = "555-0199";

    [Fact]
    public async Task Sensitive_memory_is_redacted_in_export_events_and_model_context()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var seen = new List<string>();
        session.Events.On("*", e => seen.Add(e.Data?.ToString() ?? string.Empty));

        session.AddMemory($"User phone number is {Secret}", "contact", 0.9, sensitive: true);
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("What is my phone number?");

        Assert.DoesNotContain(Secret, session.ExportMemory(), StringComparison.Ordinal);
        Assert.All(seen, s => Assert.DoesNotContain(Secret, s, StringComparison.Ordinal));
        Assert.Contains(seen, s => s.Contains(Redaction.Marker, StringComparison.Ordinal));
        Assert.DoesNotContain(Secret, host.Chat.LastSystemText, StringComparison.Ordinal);
        Assert.Contains(Redaction.Marker, host.Chat.LastSystemText, StringComparison.Ordinal);

        // The application itself still reads the value.
        Assert.Contains(session.GetMemory().Entries, e => e.Content.Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pii_detection_redacts_messages_and_memories_before_storage_when_enabled()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync(new SessionConfig { RedactPii = true });
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("Please remember that my email is alice@example.com and my card is 4111 1111 1111 1111");
        session.AddMemory("User phone is +1 415 555 0100", "contact", 0.8);
        await session.SaveAsync();

        var stored = host.StoredFileText(session.SessionId);
        Assert.DoesNotContain("alice@example.com", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("4111 1111 1111 1111", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("555 0100", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("alice@example.com", string.Join("\n", host.Chat.Requests.SelectMany(r => r).Select(m => m.Text)), StringComparison.Ordinal);
        Assert.Contains(Redaction.Marker, stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pii_is_kept_when_detection_is_off()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        session.AddMemory("User email is alice@example.com", "contact", 0.8);
        Assert.Contains(session.GetMemory().Entries, e => e.Content.Contains("alice@example.com", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("mail me at bob.smith+x@mail.example.org", true)]
    [InlineData("call +44 20 7946 0958 tomorrow", true)]
    [InlineData("card 4111-1111-1111-1111", true)]
    [InlineData("order 4111 1111 1111 1112", false)]
    [InlineData("I was born in 1990", false)]
    [InlineData("room 42 on floor 3", false)]
    public void Pii_detector_finds_emails_phones_and_luhn_valid_cards_only(string text, bool found)
    {
        var (redacted, any) = Redaction.RedactPii(text);
        Assert.Equal(found, any);
        Assert.Equal(found, redacted.Contains(Redaction.Marker, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Superseded_and_added_events_carry_redacted_entries()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        MemoryEntry? added = null;
        session.Events.On(SessionEventNames.MemoryAdded, e => added = e.DataAs<MemoryEntry>());
        session.AddMemory("User PIN is 9911", "secret", 0.9, sensitive: true);
        Assert.NotNull(added);
        Assert.Equal(Redaction.Marker, added!.Content);
        Assert.True(added.Embedding.IsEmpty);
    }

    [Fact]
    public async Task Sensitive_memories_never_reach_a_model_prompt_and_are_compressed_apart_from_the_others()
    {
        const string Locker = "ZEBRA7731";
        const string Pin = "4490";
        const string ModelAnswer = """{"summary": "User enjoys jazz and sailing.", "facts": [], "topics": ["music"], "satisfaction": 4}""";
        await using var host = new MemoryTestHost(new FixedChatClient(ModelAnswer));
        var session = await host.NewSessionAsync();
        session.AddMemory($"User's locker code is {Locker}", "personal", 0.6, sensitive: true);
        session.AddMemory($"User's card PIN is {Pin}", "personal", 0.6, sensitive: true);
        session.AddMemory("User is interested in jazz", "personal", 0.6);
        session.AddMemory("User is interested in sailing", "personal", 0.6);
        host.Time.Advance(TimeSpan.FromDays(10));

        var compression = await session.CompressMemoryAsync(7);
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("What is my locker code, and what do I like?");
        var said = $"The code for my locker is {Locker}, keep it safe";
        await conversation.SendMessageAsync(said);
        await session.GetAnalyticsAsync();

        // Two summaries: the sensitive facts merged offline and still sensitive, the others by the model and not sensitive.
        Assert.Equal(2, compression.Summaries.Count);
        var memory = session.GetMemory().Entries.Where(e => e.Source == MemorySource.Summary).ToList();
        var secret = Assert.Single(memory, e => e.Sensitive);
        Assert.Contains(Locker, secret.Content, StringComparison.Ordinal);
        Assert.Contains(Pin, secret.Content, StringComparison.Ordinal);
        Assert.Equal("User enjoys jazz and sailing.", Assert.Single(memory, e => !e.Sensitive).Content);

        // Compression, extraction, context weaving and analysis all called the model; none was sent a sensitive value,
        // except the turn in which the user said it (its reply and extraction carry the user's own words).
        var prompts = host.Chat.Requests.Where(r => r[^1].Text != said).ToList();
        Assert.Equal(host.Chat.Requests.Count - 2, prompts.Count);
        Assert.Contains(prompts, r => r[^1].Text.Contains("jazz", StringComparison.Ordinal)); // compression
        Assert.Contains(prompts, r => r[^1].Text.Contains(Redaction.Marker, StringComparison.Ordinal)); // analysis, redacted
        Assert.True(prompts.Count >= 4, $"only {prompts.Count} model calls");
        foreach (var text in prompts.SelectMany(r => r).Select(m => m.Text))
        {
            Assert.DoesNotContain(Locker, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Pin, text, StringComparison.Ordinal);
        }
    }
}
