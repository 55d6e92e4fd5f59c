using System.Text;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Crypto.Tests.Keys;

[Collection(TestKeysGroup.Name)]
public sealed class RecipientKeyReaderTests(TestKeys keys)
{
    public static TheoryData<string> UsableKeys =>
        ["rsa2048", "rsa4096", "cv25519", "nistp256", "nistp384", "nistp521", "rsa-primary-encrypts", "rsa-primary-and-subkey",
            TestKeys.RotatedEncryptionSubkey, "sq-cv25519", "sq-rsa3k"];

    public static TheoryData<string> RefusedKeys =>
        ["expired", "revoked", "sign-only", "rsa-sign-only", "rsa1024", "revoked-subkey", "expired-subkey"];

    [Theory]
    [MemberData(nameof(UsableKeys))]
    public void Usable_key_is_accepted_with_the_encryption_subkey_gpg_would_choose(string name)
    {
        var expected = keys.Usable[name];

        var verdict = RecipientKeyReader.Read(expected.Certificate, DateTimeOffset.UtcNow).Single();

        Assert.True(verdict.IsUsable, verdict.RefusalReason);
        Assert.Equal(expected.Fingerprint, verdict.Fingerprint);
        Assert.Equal(expected.EncryptionKeyFingerprint, verdict.Key!.EncryptionKeyFingerprint);
        Assert.NotEmpty(verdict.Key.UserIds);
    }

    [Theory]
    [MemberData(nameof(RefusedKeys))]
    public void Unusable_key_is_refused_with_its_fingerprint_and_the_reason(string name)
    {
        var expected = keys.Refused[name];

        var verdict = RecipientKeyReader.Read(expected.Certificate, DateTimeOffset.UtcNow).Single();

        Assert.False(verdict.IsUsable);
        Assert.Equal(expected.Fingerprint, verdict.Fingerprint);
        Assert.Contains(expected.ReasonContains, verdict.RefusalReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Rsa_primary_flagged_for_signing_is_never_chosen_over_its_encryption_subkey()
    {
        var rsa = keys.Usable["rsa2048"];

        var key = RecipientKeyReader.Read(rsa.Certificate, DateTimeOffset.UtcNow).Single().Key!;

        Assert.NotEqual(rsa.Fingerprint, key.EncryptionKeyFingerprint);
        Assert.Equal("RSA 2048", key.Algorithm);
    }

    [Fact]
    public async Task Newest_encryption_subkey_is_chosen_as_gpg_lists_it()
    {
        var rotated = keys.Usable[TestKeys.RotatedEncryptionSubkey];
        var gpgNewestUsable = (await keys.Gpg.SubkeysAsync(rotated.Fingerprint))
            .Where(s => s.Capabilities.Contains('e', StringComparison.Ordinal) && s.Validity != "e")
            .MaxBy(s => s.Created);

        var key = RecipientKeyReader.Read(rotated.Certificate, DateTimeOffset.UtcNow).Single().Key!;

        Assert.Equal(gpgNewestUsable.Fingerprint, key.EncryptionKeyFingerprint);
        Assert.Equal("ECDH Curve25519", key.Algorithm);
    }

    [Fact]
    public void A_file_with_several_armored_keys_gives_a_verdict_for_each_in_order()
    {
        var file = Encoding.ASCII.GetBytes(string.Concat(
            Encoding.ASCII.GetString(keys.Usable["cv25519"].Certificate),
            "\nsome text between blocks\n",
            Encoding.ASCII.GetString(keys.Refused["revoked"].Certificate),
            Encoding.ASCII.GetString(keys.Usable["nistp384"].Certificate)));

        var verdicts = RecipientKeyReader.Read(file, DateTimeOffset.UtcNow);

        Assert.Equal([keys.Usable["cv25519"].Fingerprint, keys.Refused["revoked"].Fingerprint, keys.Usable["nistp384"].Fingerprint],
            verdicts.Select(v => v.Fingerprint));
        Assert.Equal([true, false, true], verdicts.Select(v => v.IsUsable));
    }

    [Fact]
    public async Task Binary_keyrings_with_several_keys_are_read()
    {
        var binary = await keys.Gpg.ExportPublicAsync(keys.Usable["rsa4096"].Fingerprint, armor: false);
        var binary2 = await keys.Gpg.ExportPublicAsync(keys.Usable["nistp521"].Fingerprint, armor: false);

        var verdicts = RecipientKeyReader.Read([.. binary, .. binary2], DateTimeOffset.UtcNow);

        Assert.Equal([keys.Usable["rsa4096"].Fingerprint, keys.Usable["nistp521"].Fingerprint], verdicts.Select(v => v.Fingerprint));
        Assert.All(verdicts, v => Assert.True(v.IsUsable));
    }

    [Fact]
    public void A_private_key_is_refused_so_the_server_never_holds_one()
    {
        var error = Assert.Throws<KeyFileException>(() => RecipientKeyReader.Read(keys.Usable["cv25519"].SecretKey, DateTimeOffset.UtcNow));

        Assert.Contains("PRIVATE key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_binary_private_key_is_refused_too()
    {
        var sequoiaKey = keys.Usable["sq-cv25519"].SecretKey;

        Assert.Throws<KeyFileException>(() => RecipientKeyReader.Read(sequoiaKey, DateTimeOffset.UtcNow));
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello, this is not a key")]
    [InlineData("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n")]
    public void Input_that_is_not_a_key_gets_a_clear_error(string text)
    {
        var error = Assert.Throws<KeyFileException>(() => RecipientKeyReader.Read(Encoding.ASCII.GetBytes(text), DateTimeOffset.UtcNow));

        Assert.Matches("no OpenPGP public key|not readable OpenPGP key data", error.Message);
    }

    [Fact]
    public async Task A_key_that_expires_soon_is_usable_and_says_when()
    {
        var fingerprint = await keys.Gpg.GenerateAsync("<expires-soon@test.invalid>", "ed25519", "cert,sign", "10d");
        await keys.Gpg.AddSubkeyAsync(fingerprint, "cv25519", "encr", "10d");
        var certificate = await keys.Gpg.ExportPublicAsync(fingerprint);

        var key = RecipientKeyReader.Read(certificate, DateTimeOffset.UtcNow).Single().Key!;

        Assert.NotNull(key.EncryptionKeyExpires);
        Assert.InRange(key.EncryptionKeyExpires.Value, DateTimeOffset.UtcNow.AddDays(9), DateTimeOffset.UtcNow.AddDays(11));
        Assert.False(RecipientKeyReader.Read(certificate, DateTimeOffset.UtcNow.AddDays(12)).Single().IsUsable);
    }
}
