using SecureIntake.Testing;

namespace SecureIntake.Server.Tests;

/// <summary>Key files an admin might hand to `keys check` and `keys add`, made by gpg for this run.</summary>
public sealed class ServerTestKeys : IAsyncLifetime, IDisposable
{
    private readonly GnuPgHome _gpg = new();
    private readonly TemporaryDirectory _files = new("si-keyfiles-");

    public string Usable { get; private set; } = "";

    public string UsableFingerprint { get; private set; } = "";

    public string UsableSubkeyFingerprint { get; private set; } = "";

    public string Second { get; private set; } = "";

    public string SecondFingerprint { get; private set; } = "";

    public string Expired { get; private set; } = "";

    public string SignOnly { get; private set; } = "";

    public string Revoked { get; private set; } = "";

    public string SecretKey { get; private set; } = "";

    public string UsableAndExpired { get; private set; } = "";

    /// <summary>One key twice: as first exported, and after its owner revoked it.</summary>
    public (string Fingerprint, string Before, string AfterRevocation) LaterRevoked { get; private set; }

    public async Task InitializeAsync()
    {
        UsableFingerprint = await _gpg.GenerateAsync("Desk Editor <editor@newsroom.invalid>", "ed25519", "cert,sign", "never");
        UsableSubkeyFingerprint = await _gpg.AddSubkeyAsync(UsableFingerprint, "cv25519", "encr", "never");
        Usable = await ExportAsync("usable.asc", UsableFingerprint);
        SecretKey = _files.File("secret.asc");
        await File.WriteAllBytesAsync(SecretKey, await _gpg.ExportSecretAsync(UsableFingerprint));

        SecondFingerprint = await _gpg.GenerateAsync("<second@newsroom.invalid>", "rsa3072", "cert,sign", "never");
        await _gpg.AddSubkeyAsync(SecondFingerprint, "rsa3072", "encr", "never");
        Second = await ExportAsync("second.asc", SecondFingerprint);

        var expired = await _gpg.GenerateAsync("<expired@newsroom.invalid>", "ed25519", "cert,sign", "1y", DateTimeOffset.UtcNow.AddDays(-800));
        await _gpg.AddSubkeyAsync(expired, "cv25519", "encr", "1y", DateTimeOffset.UtcNow.AddDays(-800));
        Expired = await ExportAsync("expired.asc", expired);

        SignOnly = await ExportAsync("sign-only.asc", await _gpg.GenerateAsync("<sign-only@newsroom.invalid>", "ed25519", "cert,sign", "never"));

        var revoked = await _gpg.GenerateAsync("<revoked@newsroom.invalid>", "ed25519", "cert,sign", "never");
        await _gpg.AddSubkeyAsync(revoked, "cv25519", "encr", "never");
        await _gpg.RevokeKeyAsync(revoked);
        Revoked = await ExportAsync("revoked.asc", revoked);

        var laterRevoked = await _gpg.GenerateAsync("<later-revoked@newsroom.invalid>", "ed25519", "cert,sign", "never");
        await _gpg.AddSubkeyAsync(laterRevoked, "cv25519", "encr", "never");
        var before = await ExportAsync("later-revoked-before.asc", laterRevoked);
        await _gpg.RevokeKeyAsync(laterRevoked);
        LaterRevoked = (laterRevoked, before, await ExportAsync("later-revoked-after.asc", laterRevoked));

        UsableAndExpired = _files.File("usable-and-expired.asc");
        await File.WriteAllTextAsync(UsableAndExpired, await File.ReadAllTextAsync(Second) + await File.ReadAllTextAsync(Expired));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _gpg.Dispose();
        _files.Dispose();
    }

    public string FilePath(string name) => _files.File(name);

    /// <summary>Decrypts a stored item with stock gpg and the usable key's secret half, as an editor would.</summary>
    public async Task<byte[]> DecryptAsync(string file) => (await _gpg.DecryptAsync(file)).EnsureSuccess("gpg --decrypt").Output;

    private async Task<string> ExportAsync(string name, string fingerprint)
    {
        var path = _files.File(name);
        await System.IO.File.WriteAllBytesAsync(path, await _gpg.ExportPublicAsync(fingerprint));
        return path;
    }
}

[CollectionDefinition(Name)]
public sealed class ServerTestKeysGroup : ICollectionFixture<ServerTestKeys>
{
    public const string Name = "key files for the secureintake command";
}
