using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Voxon.Storage;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Storage;

public sealed class SessionEncryptionTests
{
    [Fact]
    public void Sealed_record_opens_with_the_same_key_and_context_only()
    {
        var encryption = SessionEncryption.FromKey("correct horse battery staple").WithSalt(new byte[16]);
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
    public async Task Data_key_destroyed_by_another_process_stops_opening_records_once_the_cache_expires()
    {
        using var folder = new TempFolder();
        var master = SessionEncryption.FromKey(new string('b', 64));
        var time = new FakeTimeProvider();
        var reading = new KeyRing(master, new FileKeyRingStore(folder.Path), "file", time);
        var erasing = new KeyRing(master, new FileKeyRingStore(folder.Path), "file", time);
        var (id, key) = await reading.UserKeyAsync("user_a");
        var sealedBytes = SessionEncryption.Seal(id, key, "secret"u8, "c");
        Assert.True(await erasing.DestroyUserKeyAsync("user_a"));

        // Within the cache lifetime the reading process still holds the key; past it, the ring is read again and the
        // key it fetched before must not open anything any more.
        Assert.NotNull(reading.FetchedDataKey(id));
        time.Advance(KeyRing.CacheLifetime + TimeSpan.FromSeconds(1));
        Assert.Null(await reading.DataKeyAsync(id));
        Assert.Null(reading.FetchedDataKey(id));
        Assert.Equal("secret", Encoding.UTF8.GetString(SessionEncryption.Open(sealedBytes, id, key, "c")));
    }

    [Fact]
    public async Task A_large_sealed_section_opens_into_a_pooled_buffer_and_a_tampered_one_is_corrupt()
    {
        using var folder = new TempFolder();
        var codec = new SessionRecordCodec("file", SessionEncryption.FromKey(new string('e', 64)), new FileKeyRingStore(folder.Path));
        var key = await codec.KeyForAsync("user_c", "save");
        var plaintext = Enumerable.Range(0, 4 << 20).Select(i => (byte)i).ToArray();
        var sealedBytes = codec.Seal(plaintext, "sess_c/content", key);
        await codec.PrepareAsync([sealedBytes], "sess_c");
        var old = false;
        var opened = false;
        void Open() => codec.OpenPooled(sealedBytes, "sess_c/content", "sess_c", ref old, p => opened = p.Span.SequenceEqual(plaintext));

        // Once the pool holds a buffer of that size, opening allocates next to nothing: not an array of 4 MB a load.
        Open();
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        Open();
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - allocated, 0, 64 * 1024);
        Assert.True(opened);
        Assert.False(old);

        sealedBytes[^1] ^= 1;
        Assert.Throws<SessionCorruptException>(Open);
    }

    [Fact]
    public async Task Data_key_ciphers_open_records_again_and_refuse_a_moved_one()
    {
        using var folder = new TempFolder();
        var ring = new KeyRing(SessionEncryption.FromKey(new string('c', 64)), new FileKeyRingStore(folder.Path), "file");
        var (id, key) = await ring.UserKeyAsync("user_b");
        var ciphers = ring.FetchedDataKey(id)!;
        var sealedBytes = SessionEncryption.Seal(id, key, "memory record"u8, "s/2/m/0");
        for (var i = 0; i < 3; i++)
        {
            // The same cipher is rented again after use; it must give the same plaintext each time.
            var plaintext = new byte[SessionEncryption.PlaintextLength(sealedBytes, id.Length)];
            var aes = ciphers.Rent();
            SessionEncryption.Open(sealedBytes, id, aes, "s/2/m/0"u8, plaintext);
            Assert.Equal("memory record", Encoding.UTF8.GetString(plaintext));
            Assert.Throws<CryptographicException>(() => SessionEncryption.Open(sealedBytes, id, aes, "s/2/m/1"u8, plaintext));
            ciphers.Return(aes);
        }

        // The context written without a string is the one records are sealed with.
        var context = new byte[64];
        Assert.True(SessionRecord.TryWriteContext(context, "sess_1", RecordKind.Memory, "mem_1", 3, out var written));
        Assert.Equal(new SessionRecord(RecordKind.Memory, "mem_1", 3, []).Context("sess_1"), Encoding.UTF8.GetString(context, 0, written));
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
        var error = Assert.Throws<CryptographicException>(() => SessionEncryption.FromKey("other").WithSalt(new byte[16]).Unprotect(sealedBytes, "c", out _));
        Assert.Contains(old.KeyId, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    // RFC 7914 section 11 (PBKDF2-HMAC-SHA256), first 32 bytes of each output.
    [InlineData("passwd", "salt", 1, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")]
    [InlineData("Password", "NaCl", 80000, "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56")]
    public void Passphrase_key_is_pbkdf2_hmac_sha256_of_the_known_vectors(string passphrase, string salt, int iterations, string expected) =>
        Assert.Equal(expected, Convert.ToHexStringLower(SessionEncryption.DerivePassphraseKey(passphrase, Encoding.UTF8.GetBytes(salt), iterations)));

    [Fact]
    public void Passphrase_needs_the_store_salt_and_each_salt_gives_another_key()
    {
        var passphrase = SessionEncryption.FromKey("correct horse battery staple");
        Assert.True(passphrase.NeedsSalt);
        Assert.Throws<InvalidOperationException>(() => passphrase.KeyId);
        var first = passphrase.WithSalt(Enumerable.Repeat((byte)1, 16).ToArray(), 100_000);
        var second = passphrase.WithSalt(Enumerable.Repeat((byte)2, 16).ToArray(), 100_000);
        Assert.NotEqual(first.KeyId, second.KeyId);
        Assert.Throws<ArgumentException>(() => passphrase.WithSalt(new byte[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => passphrase.WithSalt(new byte[16], 1_000));

        // The old single SHA-256 derivation has another id, and is still accepted for reading.
        var legacy = SessionEncryption.FromKey(Convert.ToHexString(SessionEncryption.LegacyPassphraseKey("correct horse battery staple")));
        Assert.NotEqual(legacy.KeyId, first.KeyId);
        var old = legacy.Protect("old record"u8, "c");
        Assert.Equal("old record", Encoding.UTF8.GetString(first.Unprotect(old, "c", out var wasOld)));
        Assert.True(wasOld);
    }

    [Fact]
    public void Raw_32_byte_keys_in_base64_or_hex_are_used_directly()
    {
        var raw = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var fromHex = SessionEncryption.FromKey(Convert.ToHexString(raw));
        var fromBase64 = SessionEncryption.FromKey(Convert.ToBase64String(raw));
        Assert.False(fromHex.NeedsSalt);
        Assert.Equal(fromHex.KeyId, fromBase64.KeyId);
        Assert.Equal(fromHex.KeyId, fromHex.WithSalt(new byte[16]).KeyId);
        Assert.Equal(raw, fromBase64.CurrentKey);
    }

    [Fact]
    public async Task Key_with_a_caller_supplied_storage_that_does_not_encrypt_is_refused()
    {
        var folder = Directory.CreateTempSubdirectory("voxon-refuse-").FullName;
        try
        {
            var plain = new FileSessionStorage(folder);
            var error = Assert.Throws<VoxonConfigurationException>(() => new VoxonClient(new VoxonOptions { Storage = plain, SessionEncryptionKey = "a passphrase", UseEnvironment = false }));
            Assert.Contains("does not encrypt", error.Message, StringComparison.Ordinal);

            // A storage object built with the encryption is accepted, through decorators too.
            var encrypted = new FileSessionStorage(folder, SessionEncryption.FromKey("a passphrase"));
            await using var client = new VoxonClient(new VoxonOptions { Storage = new RetryingSessionStorage(encrypted, 2, TimeSpan.Zero, TimeProvider.System), SessionEncryptionKey = "a passphrase", UseEnvironment = false });
            Assert.True(client.Storage.IsEncrypted);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
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
