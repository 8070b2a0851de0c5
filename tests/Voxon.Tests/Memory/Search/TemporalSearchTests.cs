using Voxon.Cli.Evaluation;
using Voxon.Memory.Search;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Memory.Search;

/// <summary>Time in memory: relative dates resolved against when a memory happened, time questions, session dates.</summary>
public class TemporalSearchTests
{
    // A Monday.
    private static readonly DateTimeOffset May8 = new(2023, 5, 8, 13, 56, 0, TimeSpan.Zero);

    private static string[] Ids(IReadOnlyList<MemorySearchHit> hits) => hits.Select(h => h.Id).ToArray();

    [Theory]
    [InlineData("I started there yesterday", "2023-05-07", "2023-05-07", "7 May 2023")]
    [InlineData("We moved in two days ago", "2023-05-06", "2023-05-06", "6 May 2023")]
    [InlineData("It happened the day before yesterday", "2023-05-06", "2023-05-06", "6 May 2023")]
    [InlineData("A few days ago I got a cat", "2023-05-05", "2023-05-05", "5 May 2023")]
    [InlineData("Last week was busy", "2023-05-01", "2023-05-07", "week of 1 May 2023")]
    [InlineData("We fly out next month", "2023-06-01", "2023-06-30", "June 2023")]
    [InlineData("I ran a race last Friday", "2023-05-05", "2023-05-05", "5 May 2023")]
    [InlineData("The exam is in two weeks", "2023-05-22", "2023-05-28", "week of 22 May 2023")]
    [InlineData("I quit smoking three months ago", "2023-02-01", "2023-02-28", "February 2023")]
    [InlineData("Tomorrow is my birthday", "2023-05-09", "2023-05-09", "9 May 2023")]
    [InlineData("We married last year", "2022-01-01", "2022-12-31", "2022")]
    [InlineData("I feel great TODAY", "2023-05-08", "2023-05-08", "8 May 2023")]
    [InlineData("I ran this morning", "2023-05-08", "2023-05-08", "8 May 2023")]
    [InlineData("We eat out this evening", "2023-05-08", "2023-05-08", "8 May 2023")]
    [InlineData("We eat out tonight", "2023-05-08", "2023-05-08", "8 May 2023")]
    [InlineData("I slept badly last night", "2023-05-07", "2023-05-07", "7 May 2023")]
    [InlineData("The party is the day after tomorrow", "2023-05-10", "2023-05-10", "10 May 2023")]
    [InlineData("The results come in 3 days", "2023-05-11", "2023-05-11", "11 May 2023")]
    [InlineData("We move a couple of weeks from now", "2023-05-22", "2023-05-28", "week of 22 May 2023")]
    [InlineData("We hike next weekend", "2023-05-13", "2023-05-14", "weekend of 13 May 2023")]
    [InlineData("I travelled a lot this year", "2023-01-01", "2023-12-31", "2023")]
    [InlineData("It rained all the past month", "2023-04-01", "2023-04-30", "April 2023")]
    [InlineData("I saw the dentist on Monday", "2023-05-01", "2023-05-01", "1 May 2023")]
    public void Relative_expression_resolves_against_when_the_memory_happened(string text, string start, string end, string label)
    {
        var span = Assert.Single(TemporalExpressions.Resolve(text, May8));

        Assert.Equal(DateOnly.Parse(start, System.Globalization.CultureInfo.InvariantCulture), span.Start);
        Assert.Equal(DateOnly.Parse(end, System.Globalization.CultureInfo.InvariantCulture), span.End);
        Assert.Equal(label, span.Label);
    }

    [Theory]
    [InlineData("I stayed for two days")]
    [InlineData("The other day I saw a fox")]
    [InlineData("Weekdays are long")]
    public void Durations_and_vague_expressions_are_not_given_a_date(string text) =>
        Assert.Empty(TemporalExpressions.Resolve(text, May8));

    [Fact]
    public void Time_questions_are_recognised_with_their_span()
    {
        Assert.Equal(new TimeFocus(true, null, null, null), TimeFocus.Parse("When did Maya start the new job?", May8));
        Assert.Equal(new TimeFocus(false, new DateOnly(2023, 5, 1), new DateOnly(2023, 5, 31), null), TimeFocus.Parse("What did I buy in May 2023?", May8));
        Assert.Equal(new TimeFocus(false, null, null, 3), TimeFocus.Parse("Where did we go in March?", May8));
        Assert.Equal(new TimeFocus(false, new DateOnly(2022, 1, 1), new DateOnly(2022, 12, 31), null), TimeFocus.Parse("What did I read last year?", May8));
        Assert.Null(TimeFocus.Parse("What is my sister's name?", May8));
    }

    [Fact]
    public void When_question_ranks_the_memory_that_states_a_date_first()
    {
        HybridMemoryIndex Index(double boost)
        {
            var index = new HybridMemoryIndex(new HybridSearchOptions { TimeBoost = boost });
            var noDate = "bakery job, the bakery shift was fun";
            var dated = "bakery job, first shift yesterday";
            index.Upsert("no date", noDate, ReadOnlyMemory<float>.Empty, MemoryIndexText.For(Entry(noDate)).Time);
            index.Upsert("dated", dated, ReadOnlyMemory<float>.Empty, MemoryIndexText.For(Entry(dated)).Time);
            return index;
        }

        const string Question = "When was the bakery shift?";
        Assert.Equal("no date", Index(0).Search(Question, ReadOnlyMemory<float>.Empty, 2, time: TimeFocus.Parse(Question, May8))[0].Id);
        var hits = Index(0.3).Search(Question, ReadOnlyMemory<float>.Empty, 2, time: TimeFocus.Parse(Question, May8));
        Assert.Equal(["dated", "no date"], Ids(hits));
        Assert.All(hits, h => Assert.InRange(h.Score, 0, 1));
    }

    [Fact]
    public void Question_about_a_month_finds_what_happened_then_even_without_a_shared_word()
    {
        var index = new HybridMemoryIndex();
        Add("april", "bought a red kayak", new DateTimeOffset(2023, 4, 20, 10, 0, 0, TimeSpan.Zero));
        Add("may", "picked up a canoe", new DateTimeOffset(2023, 5, 20, 10, 0, 0, TimeSpan.Zero));
        Add("may, said in june", "got a paddle board last month", new DateTimeOffset(2023, 6, 3, 10, 0, 0, TimeSpan.Zero));

        const string Question = "What boats did I get in May 2023?";
        var hits = index.Search(Question, new float[] { 1f, 0f }, 3, time: TimeFocus.Parse(Question, May8));

        Assert.Equal(["may", "may, said in june"], Ids(hits).Take(2).Order());

        void Add(string id, string text, DateTimeOffset when)
        {
            var (indexed, time) = MemoryIndexText.For(Entry(text) with { OccurredAt = when });
            index.Upsert(id, indexed, new float[] { 0.6f, 0.8f }, time);
        }
    }

    [Fact]
    public async Task Memory_added_with_its_time_is_found_by_the_resolved_date_and_by_a_when_question()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        var entry = await session.AddMemoryAsync("Maya: I started at the clinic yesterday!", "dialogue", occurredAt: May8, context: "Jon: any news on the job front?");
        await session.AddMemoryAsync("Maya: the clinic has a lovely garden", "dialogue", occurredAt: May8);
        await session.AddMemoryAsync("Jon: my brother works at a clinic too", "dialogue", occurredAt: May8.AddDays(-30));

        Assert.Equal(May8, entry.OccurredAt);
        Assert.Equal("Maya: I started at the clinic yesterday!", entry.Content);
        Assert.Equal(entry.Id, (await session.SearchMemoryAsync("7 May 2023", topK: 1))[0].Entry.Id);
        Assert.Equal(entry.Id, (await session.SearchMemoryAsync("When did Maya begin at the clinic?", topK: 1))[0].Entry.Id);
        Assert.Equal(entry.Id, (await session.SearchMemoryAsync("job front", topK: 1))[0].Entry.Id);
    }

    [Fact]
    public async Task Extracted_memory_takes_its_turns_time()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(May8);
        await using var voxon = new TestVoxon(time: time);
        var session = await voxon.CreateSessionAsync();
        var conversation = await session.StartConversationAsync();
        time.Advance(TimeSpan.FromHours(3));

        await conversation.SendMessageAsync("My name is Alice and I love jazz.");

        var turn = session.GetTranscript(conversation.ConversationId)[0];
        Assert.NotEmpty(session.GetMemory().Entries);
        Assert.All(session.GetMemory().Entries, e => Assert.Equal(turn.Timestamp, e.OccurredAt));
        Assert.Equal(May8.AddHours(3), turn.Timestamp);
    }

    [Theory]
    [InlineData("1:56 pm on 8 May, 2023", "2023-05-08T13:56:00+00:00")]
    [InlineData("10:04 am on 3 January, 2024", "2024-01-03T10:04:00+00:00")]
    [InlineData("2023-05-08", "2023-05-08T00:00:00+00:00")]
    [InlineData("2023-05-08 14:05", "2023-05-08T14:05:00+00:00")]
    [InlineData("May 8, 2023", "2023-05-08T00:00:00+00:00")]
    [InlineData("8 May 2023, 14:05", "2023-05-08T14:05:00+00:00")]
    [InlineData("2023-05-08T13:56:00+02:00", "2023-05-08T13:56:00+02:00")]
    public void Session_dates_in_several_formats_are_read(string text, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), SessionDates.Parse(text));

    [Fact]
    public void A_session_date_that_is_not_a_date_is_rejected_with_its_text() =>
        Assert.Contains("'someday'", Assert.Throws<FormatException>(() => SessionDates.Parse("someday")).Message, StringComparison.Ordinal);

    private static Voxon.Memory.MemoryEntry Entry(string content) => new()
    {
        Id = "m",
        Content = content,
        Category = "dialogue",
        CreatedAt = May8,
        OccurredAt = May8,
    };
}
