using SecureIntake.Crypto.Decryption;
using SecureIntake.Crypto.Encryption;
using SecureIntake.Testing;

namespace SecureIntake.Crypto.Tests.Encryption;

/// <summary>What we encrypt, stock GnuPG and Sequoia decrypt to the same bytes, and the other way round.</summary>
[Collection(TestKeysGroup.Name)]
public sealed class InteroperabilityTests(TestKeys keys) : IDisposable
{
    private readonly TemporaryDirectory _files = new("si-interop-");

    // Around the 512-byte minimum first chunk, the 64 KiB literal and SEIPD chunks (the literal body has a
    // 6-octet header), the sizes whose SEIPD body is an exact number of chunks (65483, 131018), and a few MiB.
    public static TheoryData<int> Sizes =>
    [
        0, 1, 15, 16, 17, 18, 191, 192, 511, 512, 513, 8383, 8384,
        65482, 65483, 65484, 65529, 65530, 65531, 65535, 65536, 65537,
        131017, 131018, 131019, 131072, 196613, (3 * 1024 * 1024) + 7,
    ];

    public static TheoryData<string> KeyKinds =>
        ["rsa2048", "rsa4096", "cv25519", "nistp256", "nistp384", "nistp521", "rsa-primary-encrypts", TestKeys.RotatedEncryptionSubkey, "sq-cv25519", "sq-rsa3k"];

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Message_to_all_recipients_decrypts_with_gpg_sq_and_ours_to_the_same_bytes(int size)
    {
        var plaintext = Messages.Plaintext(size, size);
        var message = await Messages.EncryptAsync(plaintext, keys.AllRecipients);
        var file = await WriteAsync(message);
        var usable = keys.Usable.Values.OrderBy(k => k.Name, StringComparer.Ordinal).ToList();
        var someKey = usable[size % usable.Count];

        var byGpg = (await keys.Gpg.DecryptAsync(file)).EnsureSuccess("gpg --decrypt");
        var bySq = (await keys.Sq.DecryptAsync(someKey.SecretKey, file)).EnsureSuccess($"sq decrypt with {someKey.Name}");
        var byUs = await Messages.DecryptAsync(message, someKey.SecretKey);

        Assert.Equal(plaintext, byGpg.Output);
        Assert.Equal(plaintext, bySq.Output);
        Assert.Equal(plaintext, byUs);
    }

    [Theory]
    [MemberData(nameof(KeyKinds))]
    public async Task Each_kind_of_key_alone_decrypts_with_gpg_sq_and_ours(string kind)
    {
        var key = keys.Usable[kind];
        var plaintext = Messages.Plaintext(100_003, kind.Length);
        var message = await Messages.EncryptAsync(plaintext, [key.Recipient]);
        var file = await WriteAsync(message);

        Assert.Equal(plaintext, (await keys.Gpg.DecryptAsync(file)).EnsureSuccess("gpg --decrypt").Output);
        Assert.Equal(plaintext, (await keys.Sq.DecryptAsync(key.SecretKey, file)).EnsureSuccess("sq decrypt").Output);
        Assert.Equal(plaintext, await Messages.DecryptAsync(message, key.SecretKey));
    }

    [Theory]
    [MemberData(nameof(KeyKinds))]
    public async Task What_gpg_encrypts_without_compression_we_decrypt(string kind)
    {
        var key = keys.Usable[kind];
        var plaintext = Messages.Plaintext(70_001, 7);

        var message = await GpgEncryptAsync(plaintext, key.Fingerprint, compression: "none");

        Assert.Equal(plaintext, await Messages.DecryptAsync(message, key.SecretKey));
    }

    [Theory]
    [InlineData("zlib")]
    [InlineData("zip")]
    [InlineData("bzip2")]
    public async Task What_gpg_compresses_we_refuse_since_we_never_compress(string compression)
    {
        var key = keys.Usable["cv25519"];
        var plaintext = new byte[1 << 20];

        var message = await GpgEncryptAsync(plaintext, key.Fingerprint, compression);

        Assert.True(message.Length < plaintext.Length / 100, $"gpg did not compress ({message.Length} bytes)");
        var error = await Assert.ThrowsAsync<DecryptionException>(() => Messages.DecryptAsync(message, key.SecretKey));
        Assert.Equal("compressed data is not accepted: SecureIntake never compresses, so this item was not made by it", error.Message);
    }

    [Theory]
    [InlineData("sq-cv25519")]
    [InlineData("sq-rsa3k")]
    [InlineData("cv25519")]
    [InlineData("nistp256")]
    public async Task What_sq_encrypts_without_compression_we_decrypt(string kind)
    {
        var key = keys.Usable[kind];
        var plaintext = Messages.Plaintext(70_001, 9);
        var certificate = _files.File($"{kind}.cert");
        await File.WriteAllBytesAsync(certificate, key.Certificate);

        // sq's default ("pad") compresses with ZIP, which we refuse like gpg's.
        var message = (await ExternalTool.RunAsync(ExternalTool.Require("sq", "sq"), ["encrypt", "--binary", "--compression", "none", "--recipient-cert", certificate], plaintext))
            .EnsureSuccess("sq encrypt --compression none").Output;

        Assert.Equal(plaintext, await Messages.DecryptAsync(message, key.SecretKey));
    }

    [Fact]
    public async Task What_sq_encrypts_by_default_is_compressed_and_refused()
    {
        var key = keys.Usable["sq-cv25519"];

        var message = await keys.Sq.EncryptAsync(key.Certificate, new byte[1 << 20]);

        var error = await Assert.ThrowsAsync<DecryptionException>(() => Messages.DecryptAsync(message, key.SecretKey));
        Assert.StartsWith("compressed data is not accepted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Writes_of_any_size_through_the_synchronous_path_give_the_same_plaintext()
    {
        var plaintext = Messages.Plaintext(300_000, 3);
        using var output = new MemoryStream();
        await using (var encrypting = await OpenPgpEncryptingStream.OpenAsync(output, [keys.Usable["cv25519"].Recipient], CancellationToken.None))
        {
            var offset = 0;
            foreach (var piece in Enumerable.Range(1, 1000).Select(i => (i * 7919) % 3001))
            {
                var take = Math.Min(piece, plaintext.Length - offset);
                encrypting.Write(plaintext, offset, take);
                offset += take;
            }

            encrypting.Write(plaintext, offset, plaintext.Length - offset);
            await encrypting.CompleteAsync(CancellationToken.None);
        }

        var file = await WriteAsync(output.ToArray());
        Assert.Equal(plaintext, (await keys.Gpg.DecryptAsync(file)).EnsureSuccess("gpg --decrypt").Output);
    }

    [Fact]
    public async Task A_tampered_message_is_refused_by_gpg_and_by_us()
    {
        var key = keys.Usable["cv25519"];
        var message = await Messages.EncryptAsync(Messages.Plaintext(5000, 5), [key.Recipient]);
        message[^3] ^= 0x01;
        var file = await WriteAsync(message);

        Assert.NotEqual(0, (await keys.Gpg.DecryptAsync(file)).ExitCode);
        await Assert.ThrowsAsync<DecryptionException>(() => Messages.DecryptAsync(message, key.SecretKey));
    }

    [Fact]
    public async Task A_message_never_completed_is_refused_rather_than_passing_for_a_shorter_one()
    {
        var key = keys.Usable["rsa2048"];
        using var output = new MemoryStream();
        await using (var encrypting = await OpenPgpEncryptingStream.OpenAsync(output, [key.Recipient], CancellationToken.None))
        {
            await encrypting.WriteAsync(Messages.Plaintext(200_000, 11));
        }

        var file = await WriteAsync(output.ToArray());

        Assert.NotEqual(0, (await keys.Gpg.DecryptAsync(file)).ExitCode);
        await Assert.ThrowsAsync<DecryptionException>(() => Messages.DecryptAsync(output.ToArray(), key.SecretKey));
    }

    [Fact]
    public async Task A_passphrase_protected_secret_key_decrypts_only_with_its_passphrase()
    {
        const string passphrase = "correct horse battery staple";
        var fingerprint = await keys.Gpg.GenerateAsync("<with-passphrase@test.invalid>", "ed25519", "cert,sign", "never", passphrase: passphrase);
        await keys.Gpg.AddSubkeyAsync(fingerprint, "cv25519", "encr", "never", passphrase: passphrase);
        var certificate = await keys.Gpg.ExportPublicAsync(fingerprint);
        var secret = await keys.Gpg.ExportSecretAsync(fingerprint, passphrase);
        var recipient = Crypto.Keys.RecipientKeyReader.Read(certificate, DateTimeOffset.UtcNow).Single().Key!;
        var plaintext = Messages.Plaintext(1234, 1);
        var message = await Messages.EncryptAsync(plaintext, [recipient]);

        Assert.Equal(plaintext, await Messages.DecryptAsync(message, secret, passphrase));
        var error = await Assert.ThrowsAsync<DecryptionException>(() => Messages.DecryptAsync(message, secret, "wrong"));
        Assert.Contains("passphrase", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_for_someone_else_is_refused_with_a_clear_error()
    {
        var message = await Messages.EncryptAsync(Messages.Plaintext(10, 1), [keys.Usable["nistp256"].Recipient]);

        var error = await Assert.ThrowsAsync<DecryptionException>(() => Messages.DecryptAsync(message, keys.Usable["cv25519"].SecretKey));

        Assert.Contains("not encrypted to any of the given secret keys", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _files.Dispose();

    private async Task<byte[]> GpgEncryptAsync(byte[] plaintext, string fingerprint, string compression) =>
        (await keys.Gpg.RunAsync(["--trust-model", "always", "--compress-algo", compression, "--recipient", fingerprint, "--encrypt"], plaintext))
            .EnsureSuccess($"gpg --compress-algo {compression} --encrypt").Output;

    private async Task<string> WriteAsync(byte[] message)
    {
        var file = _files.File($"{Guid.NewGuid():N}.gpg");
        await File.WriteAllBytesAsync(file, message);
        return file;
    }
}
