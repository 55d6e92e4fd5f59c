using SecureIntake.Crypto.Keys;
using SecureIntake.Server.CommandLine;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.CommandLine;

/// <summary>What `keys check`, `keys add` and `keys list` print about a key's expiry.</summary>
public sealed class KeyReportTests : IAsyncLifetime, IDisposable
{
    private readonly GnuPgHome _gpg = new();
    private KeyVerdict _subkeyExpiresIn40Days = null!;

    public async Task InitializeAsync()
    {
        var soon = await _gpg.GenerateAsync("<soon@newsroom.invalid>", "ed25519", "cert,sign", "never");
        await _gpg.AddSubkeyAsync(soon, "cv25519", "encr", "40d");
        _subkeyExpiresIn40Days = RecipientKeyReader.Read(await _gpg.ExportPublicAsync(soon), DateTimeOffset.UtcNow).Single();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _gpg.Dispose();

    [Fact]
    public void A_key_expiring_within_thirty_days_is_printed_with_a_warning_and_one_further_off_without()
    {
        var expires = _subkeyExpiresIn40Days.Key!.EncryptionKeyExpires!.Value;

        var soon = Report(expires.AddDays(-20).AddHours(-1));
        var later = Report(expires.AddDays(-35));

        Assert.Contains($"expires:     {expires:yyyy-MM-dd} (WARNING: in 20 days; ask the key's owner to extend it)", soon, StringComparison.Ordinal);
        Assert.Contains($"expires:     {expires:yyyy-MM-dd}{Environment.NewLine}", later, StringComparison.Ordinal);
        Assert.DoesNotContain("WARNING", later, StringComparison.Ordinal);
    }

    private string Report(DateTimeOffset now)
    {
        using var output = new StringWriter();
        KeyReport.Write(output, [_subkeyExpiresIn40Days], now);
        return output.ToString();
    }
}
