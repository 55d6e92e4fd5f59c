using SecureIntake.Crypto.Keys;
using SecureIntake.Testing;

namespace SecureIntake.Crypto.Tests;

public sealed record TestKey(string Name, string Fingerprint, byte[] Certificate, byte[] SecretKey, string EncryptionKeyFingerprint)
{
    public RecipientKey Recipient => RecipientKeyReader.Read(Certificate, DateTimeOffset.UtcNow).Single().Key
        ?? throw new InvalidOperationException($"{Name} should be usable");

    public override string ToString() => Name;
}

public sealed record RefusedTestKey(string Name, string Fingerprint, byte[] Certificate, string ReasonContains);

/// <summary>
/// Every kind of key the tests need, made once per run by the real tools: gpg 2.2 and Sequoia's sq.
/// gpg's own secret keys stay in its home (it decrypts there); exported copies serve sq and our decryptor.
/// </summary>
public sealed class TestKeys : IAsyncLifetime
{
    public const string RotatedEncryptionSubkey = "rotated";

    public GnuPgHome Gpg { get; } = new();

    public Sequoia Sq { get; } = new();

    public Dictionary<string, TestKey> Usable { get; } = [];

    public Dictionary<string, RefusedTestKey> Refused { get; } = [];

    public IEnumerable<RecipientKey> AllRecipients => Usable.Values.Select(k => k.Recipient);

    public async Task InitializeAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var twoYearsAgo = now.AddDays(-730);

        await UsableFromGpg("rsa2048", "rsa2048", "rsa2048");
        await UsableFromGpg("rsa4096", "rsa4096", "rsa4096");
        await UsableFromGpg("cv25519", "ed25519", "cv25519");
        await UsableFromGpg("nistp256", "nistp256", "nistp256");
        await UsableFromGpg("nistp384", "nistp384", "nistp384");
        await UsableFromGpg("nistp521", "nistp521", "nistp521");

        var primaryEncrypts = await Gpg.GenerateAsync("<rsa-primary@test.invalid>", "rsa3072", "cert,sign,encr", "never");
        await AddUsable("rsa-primary-encrypts", primaryEncrypts, primaryEncrypts);

        // An encryption-capable primary with an encryption subkey made in the same second: the subkey wins, as in GnuPG.
        var primaryAndSubkey = await Gpg.GenerateAsync("<rsa-primary-and-subkey@test.invalid>", "rsa3072", "cert,sign,encr", "never");
        await AddUsable("rsa-primary-and-subkey", primaryAndSubkey, await Gpg.AddSubkeyAsync(primaryAndSubkey, "rsa3072", "encr", "never"));

        var rotated = await Gpg.GenerateAsync("<rotated@test.invalid>", "ed25519", "cert,sign", "never", twoYearsAgo);
        await Gpg.AddSubkeyAsync(rotated, "cv25519", "encr", "1y", twoYearsAgo);
        await Gpg.AddSubkeyAsync(rotated, "rsa2048", "encr", "never", now.AddDays(-400));
        var newest = await Gpg.AddSubkeyAsync(rotated, "cv25519", "encr", "never");
        await AddUsable(RotatedEncryptionSubkey, rotated, newest);

        foreach (var suite in new[] { "cv25519", "rsa3k" })
        {
            var (key, certificate) = await Sq.GenerateAsync($"<sq-{suite}@test.invalid>", suite);
            await Gpg.ImportAsync(key);
            var fingerprint = RecipientKeyReader.Read(certificate, now).Single().Fingerprint;
            var subkey = (await Gpg.SubkeysAsync(fingerprint)).Single(s => s.Capabilities.Contains('e', StringComparison.Ordinal)).Fingerprint;
            Usable[$"sq-{suite}"] = new TestKey($"sq-{suite}", fingerprint, certificate, key, subkey);
        }

        var expired = await Gpg.GenerateAsync("<expired@test.invalid>", "rsa2048", "cert,sign", "1y", twoYearsAgo);
        await Gpg.AddSubkeyAsync(expired, "rsa2048", "encr", "1y", twoYearsAgo);
        await AddRefused("expired", expired, "the key expired on");

        var revoked = await Gpg.GenerateAsync("<revoked@test.invalid>", "ed25519", "cert,sign", "never");
        await Gpg.AddSubkeyAsync(revoked, "cv25519", "encr", "never");
        await Gpg.RevokeKeyAsync(revoked);
        await AddRefused("revoked", revoked, "the key is revoked");

        var signOnly = await Gpg.GenerateAsync("<sign-only@test.invalid>", "ed25519", "cert,sign", "never");
        await AddRefused("sign-only", signOnly, "for signing only");

        var rsaSignOnly = await Gpg.GenerateAsync("<rsa-sign-only@test.invalid>", "rsa3072", "cert,sign", "never");
        await AddRefused("rsa-sign-only", rsaSignOnly, "for signing only");

        var weak = await Gpg.GenerateAsync("<weak@test.invalid>", "rsa1024", "cert,sign", "never");
        await Gpg.AddSubkeyAsync(weak, "rsa1024", "encr", "never");
        await AddRefused("rsa1024", weak, "1024 bits, too weak");

        var revokedSubkey = await Gpg.GenerateAsync("<revoked-subkey@test.invalid>", "ed25519", "cert,sign", "never");
        await Gpg.AddSubkeyAsync(revokedSubkey, "cv25519", "encr", "never");
        await Gpg.RevokeSubkeyAsync(revokedSubkey, 1);
        await AddRefused("revoked-subkey", revokedSubkey, "is revoked");

        var expiredSubkey = await Gpg.GenerateAsync("<expired-subkey@test.invalid>", "ed25519", "cert,sign", "never", twoYearsAgo);
        await Gpg.AddSubkeyAsync(expiredSubkey, "cv25519", "encr", "1y", twoYearsAgo);
        await AddRefused("expired-subkey", expiredSubkey, "expired on");
    }

    public Task DisposeAsync()
    {
        Gpg.Dispose();
        Sq.Dispose();
        return Task.CompletedTask;
    }

    private async Task UsableFromGpg(string name, string primaryAlgorithm, string subkeyAlgorithm)
    {
        var fingerprint = await Gpg.GenerateAsync($"<{name}@test.invalid>", primaryAlgorithm, "cert,sign", "never");
        var subkey = await Gpg.AddSubkeyAsync(fingerprint, subkeyAlgorithm, "encr", "never");
        await AddUsable(name, fingerprint, subkey);
    }

    private async Task AddUsable(string name, string fingerprint, string encryptionKey) =>
        Usable[name] = new TestKey(name, fingerprint, await Gpg.ExportPublicAsync(fingerprint), await Gpg.ExportSecretAsync(fingerprint), encryptionKey);

    private async Task AddRefused(string name, string fingerprint, string reason) =>
        Refused[name] = new RefusedTestKey(name, fingerprint, await Gpg.ExportPublicAsync(fingerprint), reason);
}

[CollectionDefinition(Name)]
public sealed class TestKeysGroup : ICollectionFixture<TestKeys>
{
    public const string Name = "OpenPGP keys made by gpg and sq";
}
