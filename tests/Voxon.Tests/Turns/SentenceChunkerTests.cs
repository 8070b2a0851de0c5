using Voxon.Turns;

namespace Voxon.Tests.Turns;

public class SentenceChunkerTests
{
    [Fact]
    public void A_sentence_comes_out_as_soon_as_the_space_after_its_end_arrives()
    {
        var chunker = new SentenceChunker();

        Assert.Empty(chunker.Push("Hello there"));
        Assert.Empty(chunker.Push("."));             // could still be "3.14" or "..."
        Assert.Equal(["Hello there."], chunker.Push(" How"));
        Assert.Empty(chunker.Push(" are you"));
        Assert.Equal("How are you", chunker.Flush());
        Assert.Null(chunker.Flush());
    }

    [Fact]
    public void Decimals_abbreviations_and_initials_do_not_end_a_sentence()
    {
        var chunker = new SentenceChunker();

        var clauses = chunker.Push("Pi is 3.14 as Dr. Smith and J. Doe said e.g. in class. Next one! ");

        Assert.Equal(["Pi is 3.14 as Dr. Smith and J. Doe said e.g. in class.", "Next one!"], clauses);
    }

    [Fact]
    public void Long_clauses_end_at_commas_short_ones_wait()
    {
        var chunker = new SentenceChunker { MinClauseWords = 4 };

        Assert.Empty(chunker.Push("Well, "));
        Assert.Equal(["Well, that is a good question,"], chunker.Push("that is a good question, "));
        Assert.Empty(chunker.Push("and here"));
        Assert.Equal("and here", chunker.Flush());
    }

    [Fact]
    public async Task ChunkAsync_turns_a_token_stream_into_clauses_in_order()
    {
        static async IAsyncEnumerable<string> Tokens()
        {
            foreach (var token in new[] { "Your ", "name ", "is ", "Alice. ", "You ", "like ", "physics." })
            {
                await Task.Yield();
                yield return token;
            }
        }

        var clauses = new List<string>();
        await foreach (var clause in SentenceChunker.ChunkAsync(Tokens()))
        {
            clauses.Add(clause);
        }

        Assert.Equal(["Your name is Alice.", "You like physics."], clauses);
    }
}
