using System.IO.Compression;
using System.Text.Json;
using SecureIntake.Contracts;
using SecureIntake.Crypto.Encryption;
using SecureIntake.Testing;

namespace SecureIntake.Desk.Tests;

/// <summary>`secureintake-desk pull --scrub`: the witness's files get clean copies beside them as they are decrypted.</summary>
public sealed class PullScrubTests(EditorKey key) : IClassFixture<EditorKey>, IAsyncLifetime, IDisposable
{
    private static readonly DateTimeOffset Received = new(2026, 11, 30, 17, 5, 0, TimeSpan.Zero);
    private readonly TemporaryDirectory _files = new("si-desk-pull-scrub-");
    private readonly Guid _submission = Guid.NewGuid();
    private FakeDeskServer _server = null!;

    private string SessionPath => _files.File("session.json");

    private string Folder => _files.File("pulled");

    public async Task InitializeAsync()
    {
        _server = await FakeDeskServer.StartAsync();
        (await DeskTool.RunAsync([FakeDeskServer.EditorPassword, FakeDeskServer.EditorCode],
            "login", "--server", _server.Url, "--name", FakeDeskServer.EditorName, "--session", SessionPath)).EnsureSuccess("secureintake-desk login");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Pulling_with_scrub_writes_a_clean_copy_beside_each_file_and_leaves_the_decrypted_originals_exact()
    {
        var photo = ScrubSamples.Jpeg();
        await PublishAsync(
            ("message", "Свидетель: фото с балкона."u8.ToArray(), null),
            ("file", photo, "площадь.jpg"),
            ("file", "RIFF not a known type"u8.ToArray(), "звук.xyz"));

        var result = await DeskTool.RunAsync([EditorKey.Passphrase],
            ["pull", _submission.ToString(), "--key", key.SecretKeyFile, "--session", SessionPath, "-o", Folder, "--scrub"]);

        // The unknown file makes the exit code 1, though every item was decrypted.
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("NOT CLEANED звук.xyz", result.Error);
        Assert.Equal(photo, await File.ReadAllBytesAsync(Path.Combine(Folder, "площадь.jpg")));
        var clean = await File.ReadAllBytesAsync(Path.Combine(Folder, "площадь.clean.jpg"));
        Assert.True(clean.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(ScrubSamples.Serial)) < 0, "the clean copy still holds the serial number");
        Assert.Contains("GPS position", await File.ReadAllTextAsync(Path.Combine(Folder, "площадь.jpg.scrub.txt")));
        Assert.False(File.Exists(Path.Combine(Folder, "звук.clean.xyz")));
        Assert.StartsWith("NOT CLEANED", await File.ReadAllTextAsync(Path.Combine(Folder, "звук.xyz.scrub.txt")));
        // Messages are the witness's words, not files with metadata: they are not scrubbed.
        Assert.False(File.Exists(Path.Combine(Folder, "message-1.txt.scrub.txt")));
        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite,
            File.GetUnixFileMode(Path.Combine(Folder, "площадь.clean.jpg")));
    }

    [Fact]
    public async Task Pulling_without_scrub_writes_no_clean_copies()
    {
        await PublishAsync(("file", ScrubSamples.Jpeg(), "photo.jpg"));

        var result = await DeskTool.RunAsync([EditorKey.Passphrase],
            ["pull", _submission.ToString(), "--key", key.SecretKeyFile, "--session", SessionPath, "-o", Folder]);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Empty(Directory.GetFiles(Folder, "*.clean.*"));
        Assert.Empty(Directory.GetFiles(Folder, "*.scrub.txt"));
    }

    /// <summary>One witness batch, its manifest naming the files, every item encrypted to the editor as the server stores it.</summary>
    private async Task PublishAsync(params (string Kind, byte[] Plaintext, string? FileName)[] witnessItems)
    {
        var batch = Guid.NewGuid().ToString();
        var plaintexts = witnessItems.Select(item => (Id: Guid.NewGuid().ToString(), item.Kind, item.Plaintext, item.FileName)).ToList();
        var manifest = JsonSerializer.SerializeToUtf8Bytes(
            new BatchManifest(BatchManifest.CurrentVersion, _submission, batch, "web",
                plaintexts.Select(item => new BatchItem(item.Id, item.Kind, item.FileName, "application/octet-stream", item.Plaintext.Length)).ToList()),
            ContractJson.Default.BatchManifest);
        plaintexts.Add((Guid.NewGuid().ToString(), "manifest", manifest, null));
        var items = new List<ArchiveItem>();
        using var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (id, kind, plaintext, _) in plaintexts)
            {
                var ciphertext = await EncryptAsync(plaintext);
                await using (var entry = archive.CreateEntry($"{id}.gpg").Open())
                {
                    await entry.WriteAsync(ciphertext);
                }

                items.Add(new ArchiveItem($"{id}.gpg", id, batch, kind, "witness", Received, ciphertext.Length));
            }

            await using var manifestEntry = archive.CreateEntry("manifest.json").Open();
            await manifestEntry.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(
                new ArchiveManifest(ArchiveManifest.CurrentVersion, _submission, "default", "web", Received, items), ContractJson.Default.ArchiveManifest));
        }

        _server.Archives[_submission] = zip.ToArray();
    }

    private async Task<byte[]> EncryptAsync(byte[] plaintext)
    {
        using var output = new MemoryStream();
        await using (var encrypting = await OpenPgpEncryptingStream.OpenAsync(output, [key.Recipient], CancellationToken.None))
        {
            await encrypting.WriteAsync(plaintext);
            await encrypting.CompleteAsync(CancellationToken.None);
        }

        return output.ToArray();
    }
}
