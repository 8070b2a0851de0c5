using System.Security.Cryptography;
using System.Text;
using Voxon.Storage;

namespace Voxon.Tests.Storage;

public sealed class SessionEncryptionTests
{
    [Fact]
    public void Sealed_record_opens_with_the_same_key_and_context_only()
    {
        var encryption = SessionEncryption.FromKey("correct horse battery staple");
        var sealedBytes = encryption.Protect("hello secret"u8, "sess_1/2/mem_1/0");

        Assert.True(SessionEncryption.IsEnvelope(sealedBytes));
        Assert.Equal(encryption.KeyId, SessionEncryption.KeyIdOf(sealedBytes));
        Assert.DoesNotContain("secret", Encoding.Latin1.GetString(sealedBytes), StringComparison.Ordinal);
        Assert.Equal("hello secret", Encoding.UTF8.GetString(encryption.Unprotect(sealedBytes, "sess_1/2/mem_1/0", out var old)));
        Assert.False(old);
        Assert.Throws<CryptographicException>(() => encryption.Unprotect(sealedBytes, "sess_2/2/mem_1/0", out _));
        sealedBytes[^1] ^= 1;
        Assert.Throws<CryptographicException>(() => encryption.Unprotect(sealedBytes, "sess_1/2/mem_1/0", out _));
    }

    [Fact]
    public void Previous_keys_open_old_records_and_report_them_old()
    {
        var old = SessionEncryption.FromKey(Convert.ToBase64String(new byte[32]));
        var rotated = SessionEncryption.FromKey(new string('a', 64), Convert.ToBase64String(new byte[32]));
        var sealedBytes = old.Protect("x"u8, "c");

        Assert.NotEqual(old.KeyId, rotated.KeyId);
        rotated.Unprotect(sealedBytes, "c", out var wasOld);
        Assert.True(wasOld);
        var error = Assert.Throws<CryptographicException>(() => SessionEncryption.FromKey("other").Unprotect(sealedBytes, "c", out _));
        Assert.Contains(old.KeyId, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_read_the_key_from_the_options_and_validate_the_method()
    {
        Assert.NotNull(new VoxonOptions { SessionEncryptionKey = "k" }.CreateEncryption());
        Assert.Null(new VoxonOptions { UseEnvironment = false }.CreateEncryption());
        var error = Assert.Throws<VoxonConfigurationException>(() => new VoxonOptions { SessionEncryptionMethod = "ROT13" }.Validate());
        Assert.Contains("AES256", error.Message, StringComparison.Ordinal);
    }
}
