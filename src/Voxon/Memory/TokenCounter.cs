using Microsoft.ML.Tokenizers;

namespace Voxon.Memory;

/// <summary>Counts tokens with tiktoken's o200k_base, the encoding of current OpenAI models (data ships in a NuGet package).</summary>
public static class TokenCounter
{
    private static readonly Lazy<Tokenizer> Tokenizer = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    /// <summary>Tokens in <paramref name="text"/>.</summary>
    public static int Count(string text) => string.IsNullOrEmpty(text) ? 0 : Tokenizer.Value.CountTokens(text);
}
