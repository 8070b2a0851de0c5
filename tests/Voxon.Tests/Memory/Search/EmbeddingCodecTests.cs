using Voxon.Memory.Search;

namespace Voxon.Tests.Memory.Search;

public class EmbeddingCodecTests
{
    private static readonly float[] Sample = [0f, 1f, -1.5f, 3.14159f, float.Epsilon, float.MaxValue, -0f];

    [Fact]
    public void Base64_round_trip_preserves_every_bit()
    {
        var decoded = EmbeddingCodec.FromBase64(EmbeddingCodec.ToBase64(Sample));

        Assert.Equal(Sample.Select(BitConverter.SingleToInt32Bits), decoded.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Bytes_are_little_endian_float32()
    {
        var bytes = EmbeddingCodec.ToBytes([1f, -2f]);

        // 1.0f = 0x3F800000, -2.0f = 0xC0000000, least significant byte first.
        Assert.Equal(new byte[] { 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0 }, bytes);
        Assert.Equal(new[] { 1f, -2f }, EmbeddingCodec.FromBytes(bytes));
    }

    [Fact]
    public void Empty_vector_round_trips_to_empty()
    {
        Assert.Equal("", EmbeddingCodec.ToBase64([]));
        Assert.Empty(EmbeddingCodec.FromBase64(""));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void Byte_count_not_multiple_of_four_throws_format_exception(int length)
    {
        var error = Assert.Throws<FormatException>(() => EmbeddingCodec.FromBytes(new byte[length]));
        Assert.Contains(length.ToString(), error.Message);
    }

    [Fact]
    public void Base64_of_bad_length_throws_format_exception()
    {
        Assert.Throws<FormatException>(() => EmbeddingCodec.FromBase64(Convert.ToBase64String(new byte[6])));
    }

    [Fact]
    public void Text_that_is_not_base64_throws_format_exception()
    {
        Assert.Throws<FormatException>(() => EmbeddingCodec.FromBase64("not base64!"));
    }
}
