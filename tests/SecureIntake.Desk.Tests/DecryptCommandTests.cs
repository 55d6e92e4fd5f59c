using System.Text;
using SecureIntake.Crypto.Encryption;
using SecureIntake.Crypto.Keys;
using SecureIntake.Testing;

namespace SecureIntake.Desk.Tests;

public sealed class DecryptCommandTests : IAsyncLifetime, IDisposable
{
    private const string Passphrase = "editor's own passphrase";
    private readonly GnuPgHome _gpg = new();
    private readonly TemporaryDirectory _files = new("si-desk-");
    private string _fingerprint = "";
    private string _secretKey = "";
    private RecipientKey _recipient = null!;

    public async Task InitializeAsync()
    {
        _fingerprint = await _gpg.GenerateAsync("<editor@newsroom.invalid>", "ed25519", "cert,sign", "never", passphrase: Passphrase);
        await _gpg.AddSubkeyAsync(_fingerprint, "cv25519", "encr", "never", passphrase: Passphrase);
        _secretKey = _files.File("editor-secret.asc");
        await File.WriteAllBytesAsync(_secretKey, await _gpg.ExportSecretAsync(_fingerprint, Passphrase));
        _recipient = RecipientKeyReader.Read(await _gpg.ExportPublicAsync(_fingerprint), DateTimeOffset.UtcNow).Single().Key!;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _gpg.Dispose();
        _files.Dispose();
    }

    [Fact]
    public async Task An_item_encrypted_by_the_server_decrypts_next_to_it_with_the_editors_key()
    {
        var testimony = Encoding.UTF8.GetBytes("Свидетель: стреляли на площади в 14:10. Куәгер.");
        var item = await WriteEncryptedAsync("testimony.txt.gpg", testimony);

        var result = await RunAsync(Passphrase, "decrypt", item, "--key", _secretKey);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(testimony, await File.ReadAllBytesAsync(_files.File("testimony.txt")));
    }

    [Fact]
    public async Task An_item_gpg_encrypted_without_compression_decrypts_too()
    {
        var content = new byte[100_000];
        Random.Shared.NextBytes(content);
        var item = _files.File("from-gpg.gpg");
        await File.WriteAllBytesAsync(item, await GpgEncryptAsync(content, "none"));

        var result = await RunAsync(Passphrase, "decrypt", item, "--key", _secretKey, "--output", _files.File("out.bin"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(content, await File.ReadAllBytesAsync(_files.File("out.bin")));
    }

    [Fact]
    public async Task A_compressed_item_is_refused_and_nothing_is_written()
    {
        // 64 MiB of zeros packs into a few dozen KiB: the shape of an item made to fill an editor's disk.
        var item = _files.File("bomb.gpg");
        await File.WriteAllBytesAsync(item, await GpgEncryptAsync(new byte[64 << 20], "zlib"));
        Assert.True(new FileInfo(item).Length < 1 << 20, "gpg did not compress");

        var result = await RunAsync(Passphrase, "decrypt", item, "--key", _secretKey);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("compressed data is not accepted: SecureIntake never compresses, so this item was not made by it", result.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was written", result.Error, StringComparison.Ordinal);
        Assert.Equal(["bomb.gpg", "editor-secret.asc"], Directory.GetFiles(_files.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_wrong_passphrase_writes_nothing()
    {
        var item = await WriteEncryptedAsync("secret.gpg", [1, 2, 3]);

        var result = await RunAsync("not it", "decrypt", item, "--key", _secretKey);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("passphrase is wrong", result.Error, StringComparison.Ordinal);
        Assert.Equal(["editor-secret.asc", "secret.gpg"], Directory.GetFiles(_files.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_tampered_item_leaves_no_plaintext_behind()
    {
        var item = await WriteEncryptedAsync("tampered.gpg", new byte[200_000]);
        var bytes = await File.ReadAllBytesAsync(item);
        bytes[^5] ^= 0x40;
        await File.WriteAllBytesAsync(item, bytes);

        var result = await RunAsync(Passphrase, "decrypt", item, "--key", _secretKey);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("nothing was written", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(_files.File("tampered")));
        Assert.Empty(Directory.GetFiles(_files.Path, "*.partial"));
    }

    [Fact]
    public async Task An_existing_file_is_never_overwritten()
    {
        var item = await WriteEncryptedAsync("note.gpg", [9, 9, 9]);
        await File.WriteAllTextAsync(_files.File("note"), "keep me");

        var result = await RunAsync(Passphrase, "decrypt", item, "--key", _secretKey);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("already exists", result.Error, StringComparison.Ordinal);
        Assert.Equal("keep me", await File.ReadAllTextAsync(_files.File("note")));
    }

    private async Task<byte[]> GpgEncryptAsync(byte[] content, string compression) =>
        (await _gpg.RunAsync(["--trust-model", "always", "--compress-algo", compression, "--recipient", _fingerprint, "--encrypt"], content))
            .EnsureSuccess($"gpg --compress-algo {compression} --encrypt").Output;

    private async Task<string> WriteEncryptedAsync(string name, byte[] content)
    {
        var path = _files.File(name);
        await using var file = File.Create(path);
        await using var encrypting = await OpenPgpEncryptingStream.OpenAsync(file, [_recipient], CancellationToken.None);
        await encrypting.WriteAsync(content);
        await encrypting.CompleteAsync(CancellationToken.None);
        return path;
    }

    private static Task<ToolResult> RunAsync(string passphrase, params string[] arguments) =>
        ExternalTool.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "secureintake-desk.dll"), .. arguments], Encoding.UTF8.GetBytes(passphrase + "\n"));
}
