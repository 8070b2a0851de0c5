using Voxon.Memory.Search;

namespace Voxon.Tests.Memory.Search;

public class SearchTokenizerTests
{
    [Theory]
    [InlineData("preferences", "prefers")]
    [InlineData("preference", "prefer")]
    [InlineData("preferred", "preferring")]
    [InlineData("hiking", "hikes")]
    [InlineData("hiked", "hike")]
    [InlineData("lives", "living")]
    [InlineData("cities", "city")]
    [InlineData("studied", "studies")]
    [InlineData("running", "runs")]
    [InlineData("movies", "movie")]
    [InlineData("days", "day")]
    [InlineData("appointments", "appointment")]
    public void Inflected_forms_share_a_stem(string left, string right)
    {
        Assert.Equal(SearchTokenizer.Tokenize(left), SearchTokenizer.Tokenize(right));
    }

    [Theory]
    [InlineData("glass", "glass")]
    [InlineData("bus", "bus")]
    [InlineData("need", "need")]
    [InlineData("sing", "sing")]
    [InlineData("calling", "call")]
    public void Short_or_irregular_words_are_not_over_stemmed(string word, string stem)
    {
        Assert.Equal([stem], SearchTokenizer.Tokenize(word));
    }

    [Fact]
    public void Stop_words_single_letters_and_punctuation_are_dropped_and_case_folded()
    {
        Assert.Equal(["user", "lisbon"], SearchTokenizer.Tokenize("The USER's in... Lisbon, I am!"));
    }

    [Fact]
    public void Digits_are_kept_verbatim_and_unicode_letters_are_words()
    {
        Assert.Equal(["3pm", "2024", "são", "paulo", "café"], SearchTokenizer.Tokenize("3pm, 2024 — São Paulo café"));
    }

    [Fact]
    public void Text_of_only_stop_words_has_no_terms()
    {
        Assert.Empty(SearchTokenizer.Tokenize("what is it that you are doing?"));
    }
}
