using SecureIntake.Crypto.Keys;
using SecureIntake.Testing;

namespace SecureIntake.Crypto.Tests.Keys;

public sealed class KeyExpiryTests : IAsyncLifetime, IDisposable
{
    private readonly GnuPgHome _gpg = new();
    private RecipientKey _subkeyExpiresIn40Days = null!;
    private RecipientKey _neverExpires = null!;

    public async Task InitializeAsync()
    {
        var soon = await _gpg.GenerateAsync("<soon@test.invalid>", "ed25519", "cert,sign", "never");
        await _gpg.AddSubkeyAsync(soon, "cv25519", "encr", "40d");
        _subkeyExpiresIn40Days = Read(await _gpg.ExportPublicAsync(soon));
        var never = await _gpg.GenerateAsync("<never@test.invalid>", "ed25519", "cert,sign", "never");
        await _gpg.AddSubkeyAsync(never, "cv25519", "encr", "never");
        _neverExpires = Read(await _gpg.ExportPublicAsync(never));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _gpg.Dispose();

    [Fact]
    public void An_encryption_subkey_is_warned_about_from_thirty_days_before_it_expires()
    {
        var expires = _subkeyExpiresIn40Days.EncryptionKeyExpires!.Value;

        Assert.Null(KeyExpiry.Near(_subkeyExpiresIn40Days, expires.AddDays(-31)));
        Assert.Equal(expires, KeyExpiry.Near(_subkeyExpiresIn40Days, expires.AddDays(-29)));
        Assert.Equal(expires, KeyExpiry.Near(_subkeyExpiresIn40Days, expires.AddDays(1)));
    }

    [Fact]
    public void A_key_that_never_expires_is_never_warned_about() =>
        Assert.Null(KeyExpiry.Near(_neverExpires, DateTimeOffset.UtcNow.AddYears(100)));

    private static RecipientKey Read(byte[] certificate) =>
        RecipientKeyReader.Read(certificate, DateTimeOffset.UtcNow).Single().Key ?? throw new InvalidOperationException("the test key should be usable");
}
