using System.IO.Compression;
using System.Text;
using System.Text.Json;
using SecureIntake.Contracts;
using SecureIntake.Crypto.Encryption;
using SecureIntake.Crypto.Keys;
using SecureIntake.Testing;

namespace SecureIntake.Desk.Tests;

/// <summary>The editor's key, made by gpg once for all pull tests: only read by them, never changed.</summary>
public sealed class EditorKey : IAsyncLifetime, IDisposable
{
    public const string Passphrase = "editor's own passphrase";
    private readonly GnuPgHome _gpg = new();

    public string SecretKeyFile => Path.Combine(_gpg.Path, "editor-secret.asc");

    public RecipientKey Recipient { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var fingerprint = await _gpg.GenerateAsync("<editor@newsroom.invalid>", "ed25519", "cert,sign", "never", passphrase: Passphrase);
        await _gpg.AddSubkeyAsync(fingerprint, "cv25519", "encr", "never", passphrase: Passphrase);
        await File.WriteAllBytesAsync(SecretKeyFile, await _gpg.ExportSecretAsync(fingerprint, Passphrase));
        Recipient = RecipientKeyReader.Read(await _gpg.ExportPublicAsync(fingerprint), DateTimeOffset.UtcNow).Single().Key!;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _gpg.Dispose();
}

public sealed class PullCommandTests(EditorKey key) : IClassFixture<EditorKey>, IAsyncLifetime, IDisposable
{
    private const string Passphrase = EditorKey.Passphrase;
    private static readonly DateTimeOffset Received = new(2026, 11, 30, 17, 5, 0, TimeSpan.Zero);
    private readonly TemporaryDirectory _files = new("si-desk-pull-");
    private readonly Guid _submission = Guid.NewGuid();
    private readonly string _secretKey = key.SecretKeyFile;
    private readonly RecipientKey _recipient = key.Recipient;
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
    public async Task A_submission_is_pulled_under_safe_names_with_byte_exact_content()
    {
        var archive = new Archive(_submission, _recipient);
        var video = RandomBytes(300_000);
        var hostile = "..\\..\\Windows\\evil\u202Etxt.exe";
        // Added to the archive later-first: numbering follows when items were added, not the archive's order.
        var second = archive.Batch(Received.AddMinutes(35));
        second.Add("message", "Ещё одно: они вернулись."u8.ToArray());
        second.Add("file", [5, 5, 5], "Report.PDF");
        second.Add("file", [6, 6], "report.pdf");
        second.Add("email", "Subject: follow-up\r\n\r\nБольше фото завтра.\r\n"u8.ToArray());
        var first = archive.Batch(Received);
        first.Add("message", "Свидетель: стреляли на площади в 14:10. Куәгер."u8.ToArray());
        first.Add("file", video, "площадь.mp4");
        first.Add("file", "MZ not really"u8.ToArray(), hostile);
        first.Add("file", [3], "CON");
        first.Add("file", "a witness's own message-1.txt"u8.ToArray(), "message-1.txt");
        first.Add("file", [4, 4, 4, 4], null);
        archive.Reply(Received.AddHours(1), "Спасибо, мы свяжемся с вами."u8.ToArray());
        await archive.PublishAsync(_server);

        var result = await PullAsync("-o", Folder);

        Assert.True(result.ExitCode == 0, result.Error);
        var expected = new Dictionary<string, byte[]>
        {
            ["message-1.txt"] = "Свидетель: стреляли на площади в 14:10. Куәгер."u8.ToArray(),
            ["площадь.mp4"] = video,
            ["eviltxt.exe"] = "MZ not really"u8.ToArray(),
            ["_CON"] = [3],
            ["message-1 (2).txt"] = "a witness's own message-1.txt"u8.ToArray(),
            ["file-5"] = [4, 4, 4, 4],
            ["message-2.txt"] = "Ещё одно: они вернулись."u8.ToArray(),
            ["Report.PDF"] = [5, 5, 5],
            ["report (2).pdf"] = [6, 6],
            ["email-1.eml"] = "Subject: follow-up\r\n\r\nБольше фото завтра.\r\n"u8.ToArray(),
            ["reply-1.txt"] = "Спасибо, мы свяжемся с вами."u8.ToArray(),
        };
        Assert.Equal(
            expected.Keys.Append("encrypted").Append("manifest.json").Order(StringComparer.Ordinal),
            Directory.GetFileSystemEntries(Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal)!,
            StringComparer.Ordinal);
        foreach (var (name, content) in expected)
        {
            Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(Folder, name)));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Folder, name)));
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Folder));
        Assert.DoesNotContain('\u202E', result.OutputText);
        Assert.Contains("eviltxt.exe  (sent as \"..\\..\\Windows\\evil?txt.exe\")", result.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_archive_entries_are_kept_untouched_for_decrypting_again_offline()
    {
        var archive = new Archive(_submission, _recipient);
        var batch = archive.Batch(Received);
        batch.Add("message", "keep the ciphertext"u8.ToArray());
        batch.Add("file", RandomBytes(20_000), "photo.jpg");
        await archive.PublishAsync(_server);

        var result = await PullAsync("-o", Folder);

        Assert.True(result.ExitCode == 0, result.Error);
        var encrypted = Path.Combine(Folder, "encrypted");
        Assert.Equal(
            archive.Entries.Keys.Order(StringComparer.Ordinal),
            Directory.GetFiles(encrypted).Select(Path.GetFileName).Order(StringComparer.Ordinal)!,
            StringComparer.Ordinal);
        foreach (var (name, content) in archive.Entries)
        {
            Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(encrypted, name)));
        }

        var item = archive.Items.Single(item => item.Kind == "file");
        var again = await DeskTool.RunAsync([Passphrase], "decrypt", Path.Combine(encrypted, item.File), "--key", _secretKey, "-o", _files.File("again.jpg"));
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(Folder, "photo.jpg")), await File.ReadAllBytesAsync(_files.File("again.jpg")));
    }

    [Fact]
    public async Task The_manifest_lists_each_written_file_with_its_original_name()
    {
        var archive = new Archive(_submission, _recipient);
        var batch = archive.Batch(Received);
        batch.Add("message", "hello"u8.ToArray());
        batch.Add("file", new byte[1234], "../../evil\u202Etxt.exe", "application/x-msdownload");
        batch.Add("file", new byte[10], "площадь.mp4", "video/mp4");
        await archive.PublishAsync(_server);

        var result = await PullAsync("-o", Folder);

        Assert.True(result.ExitCode == 0, result.Error);
        var text = await File.ReadAllTextAsync(Path.Combine(Folder, "manifest.json"));
        Assert.DoesNotContain('\u202E', text);
        Assert.Contains("площадь.mp4", text, StringComparison.Ordinal);
        using var manifest = JsonDocument.Parse(text);
        Assert.Equal(_submission, manifest.RootElement.GetProperty("submission").GetGuid());
        Assert.Empty(manifest.RootElement.GetProperty("notDecrypted").EnumerateArray());
        var files = manifest.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(["message-1.txt", "eviltxt.exe", "площадь.mp4"], files.Select(file => file.GetProperty("name").GetString()));
        var evil = files[1];
        Assert.Equal("../../evil\u202Etxt.exe", evil.GetProperty("originalName").GetString());
        Assert.Equal("file", evil.GetProperty("kind").GetString());
        Assert.Equal(batch.Id, evil.GetProperty("batch").GetString());
        Assert.Equal(Received, evil.GetProperty("addedAt").GetDateTimeOffset());
        Assert.Equal(1234, evil.GetProperty("bytes").GetInt64());
        Assert.Equal(JsonValueKind.Null, files[0].GetProperty("originalName").ValueKind);
        Assert.Equal("message", files[0].GetProperty("kind").GetString());
        Assert.Equal(5, files[0].GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task A_tampered_item_is_reported_and_the_others_are_still_written()
    {
        var archive = new Archive(_submission, _recipient);
        var batch = archive.Batch(Received);
        batch.Add("message", "intact message"u8.ToArray());
        var tampered = batch.Add("file", RandomBytes(50_000), "tampered.bin");
        batch.Add("file", [7, 7, 7], "intact.bin");
        archive.Tamper(tampered);
        await archive.PublishAsync(_server);

        var result = await PullAsync("-o", Folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"item {tampered} (file", result.Error, StringComparison.Ordinal);
        Assert.Contains("1 of 4 item(s) could not be decrypted", result.Error, StringComparison.Ordinal);
        Assert.Equal("intact message"u8.ToArray(), await File.ReadAllBytesAsync(Path.Combine(Folder, "message-1.txt")));
        Assert.Equal([7, 7, 7], await File.ReadAllBytesAsync(Path.Combine(Folder, "intact.bin")));
        Assert.False(File.Exists(Path.Combine(Folder, "tampered.bin")));
        Assert.True(File.Exists(Path.Combine(Folder, "encrypted", $"{tampered}.gpg")));
        Assert.Empty(Directory.GetFiles(Folder, "*.partial", SearchOption.AllDirectories));
        using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(Folder, "manifest.json")));
        var failure = Assert.Single(manifest.RootElement.GetProperty("notDecrypted").EnumerateArray());
        Assert.Equal(tampered, failure.GetProperty("item").GetString());
        Assert.Equal(2, manifest.RootElement.GetProperty("files").GetArrayLength());
    }

    [Fact]
    public async Task A_wrong_passphrase_reports_every_item_and_keeps_nothing()
    {
        var archive = new Archive(_submission, _recipient);
        var batch = archive.Batch(Received);
        batch.Add("message", [1, 2, 3]);
        batch.Add("file", [4, 5, 6], "photo.jpg");
        await archive.PublishAsync(_server);

        var result = await DeskTool.RunAsync(["not it"], "pull", _submission.ToString(), "--key", _secretKey, "--session", SessionPath, "-o", Folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(3, result.Error.Split('\n').Count(line => line.Contains("the passphrase is wrong", StringComparison.Ordinal)));
        Assert.Contains("nothing was kept", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Folder));
    }

    [Fact]
    public async Task A_batch_manifest_that_fails_leaves_its_files_numbered_and_exits_1()
    {
        var archive = new Archive(_submission, _recipient);
        var batch = archive.Batch(Received);
        batch.Add("file", [1], "named.txt");
        archive.Tamper(batch.ManifestId);
        await archive.PublishAsync(_server);

        var result = await PullAsync("-o", Folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"item {batch.ManifestId} (manifest", result.Error, StringComparison.Ordinal);
        Assert.Equal([1], await File.ReadAllBytesAsync(Path.Combine(Folder, "file-1")));
    }

    [Fact]
    public async Task An_ended_session_tells_the_editor_to_log_in_again_and_leaves_no_folder()
    {
        var archive = new Archive(_submission, _recipient);
        archive.Batch(Received).Add("message", [1]);
        await archive.PublishAsync(_server);
        _server.EndAllSessions();

        var result = await PullAsync("-o", Folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("run `secureintake-desk login` again", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Folder));
    }

    [Fact]
    public async Task An_unknown_submission_is_reported()
    {
        var result = await PullAsync("-o", Folder);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("secureintake-desk: there is no such submission on the desk", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Folder));
    }

    [Fact]
    public async Task A_folder_that_is_not_empty_is_refused()
    {
        var archive = new Archive(_submission, _recipient);
        archive.Batch(Received).Add("message", [1]);
        await archive.PublishAsync(_server);
        Directory.CreateDirectory(Folder);
        await File.WriteAllTextAsync(Path.Combine(Folder, "message-1.txt"), "keep me");

        var result = await PullAsync("-o", Folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not an empty folder", result.Error, StringComparison.Ordinal);
        Assert.Equal("keep me", await File.ReadAllTextAsync(Path.Combine(Folder, "message-1.txt")));
        Assert.Single(Directory.GetFileSystemEntries(Folder));
    }

    [Fact]
    public async Task Without_output_the_folder_is_named_for_the_submission_in_the_current_folder()
    {
        var archive = new Archive(_submission, _recipient);
        archive.Batch(Received).Add("message", "hi"u8.ToArray());
        await archive.PublishAsync(_server);
        var workingDirectory = Directory.CreateDirectory(_files.File("work")).FullName;

        var result = await ExternalTool.RunAsync("sh",
            ["-c", "cd \"$1\" && shift && exec dotnet \"$@\"", "sh", workingDirectory,
             Path.Combine(AppContext.BaseDirectory, "secureintake-desk.dll"), "pull", _submission.ToString(), "--key", _secretKey, "--session", SessionPath],
            Encoding.UTF8.GetBytes(Passphrase + "\n"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("hi"u8.ToArray(), await File.ReadAllBytesAsync(Path.Combine(workingDirectory, $"submission-{_submission.ToString()[..8]}", "message-1.txt")));
    }

    [Theory]
    [InlineData("../x.gpg")]
    [InlineData("../../x.gpg")]
    [InlineData("../../../x.gpg")]
    [InlineData("{root}/elsewhere/x.gpg")]
    [InlineData("..\\..\\x.gpg")]
    [InlineData("x\0.gpg")]
    [InlineData("NUL.gpg")]
    public async Task An_item_named_to_climb_out_of_the_folder_is_refused_and_nothing_lands_outside_it(string hostile)
    {
        hostile = hostile.Replace("{root}", _files.Path, StringComparison.Ordinal);
        var folder = DeepFolder;
        var encrypted = Path.Combine(folder, "encrypted");
        // Where the name would really land, which for "../" is the pulled folder itself or above it: the search below must cover it.
        // The system reads a name only up to a NUL.
        var escaped = Path.GetFullPath(Path.Combine(encrypted, hostile.Split('\0')[0]));
        Assert.StartsWith(_files.Path + "/", escaped, StringComparison.Ordinal);
        var archive = new Archive(_submission, _recipient);
        var batch = archive.Batch(Received);
        batch.Add("message", "the honest part"u8.ToArray());
        var secret = RandomBytes(4_000);
        var item = batch.Add("file", secret, "photo.jpg");
        archive.Rename(item, hostile);
        await archive.PublishAsync(_server);

        var result = await PullAsync("-o", folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"item {item} (file", result.Error, StringComparison.Ordinal);
        Assert.Contains("is not a plain, unique <id>.gpg name; it was not copied", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(escaped), $"{escaped} was written");
        Assert.Equal("the honest part"u8.ToArray(), await File.ReadAllBytesAsync(Path.Combine(folder, "message-1.txt")));
        Assert.Equal(
            ["encrypted", "manifest.json", "message-1.txt"],
            Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal)!);
        Assert.Equal(
            archive.Entries.Keys.Where(name => name != hostile).Order(StringComparer.Ordinal),
            Directory.GetFileSystemEntries(encrypted).Select(Path.GetFileName).Order(StringComparer.Ordinal)!,
            StringComparer.Ordinal);
        await AssertNothingElseUnderTheTestFolderAsync(folder, secret, archive.Entries[hostile]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    [InlineData(-4_000)]
    public async Task An_item_of_another_size_than_the_manifest_says_is_refused_and_leaves_no_plaintext(long difference)
    {
        var folder = DeepFolder;
        var archive = new Archive(_submission, _recipient);
        var batch = archive.Batch(Received);
        batch.Add("message", "the honest part"u8.ToArray());
        var secret = RandomBytes(8_000);
        var item = batch.Add("file", secret, "photo.jpg");
        archive.Misstate(item, difference);
        await archive.PublishAsync(_server);

        var result = await PullAsync("-o", folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"item {item} (file", result.Error, StringComparison.Ordinal);
        Assert.Contains($"the archive holds {archive.Entries[$"{item}.gpg"].Length} bytes of it, the manifest says", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(folder, "photo.jpg")));
        Assert.False(File.Exists(Path.Combine(folder, "encrypted", $"{item}.gpg")));
        Assert.Equal("the honest part"u8.ToArray(), await File.ReadAllBytesAsync(Path.Combine(folder, "message-1.txt")));
        await AssertNothingElseUnderTheTestFolderAsync(folder, secret, archive.Entries[$"{item}.gpg"]);
    }

    [Fact]
    public async Task Another_submissions_archive_is_refused_and_nothing_is_written()
    {
        var folder = DeepFolder;
        var other = Guid.NewGuid();
        var archive = new Archive(other, _recipient);
        var secret = RandomBytes(3_000);
        archive.Batch(Received).Add("file", secret, "someone-else.jpg");
        await archive.PublishAsync(_server, servedAs: _submission);

        var result = await PullAsync("-o", folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"the server sent the archive of submission {other} instead; nothing was written", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder));
        Assert.Equal(["session.json"], Directory.GetFiles(_files.Path, "*", SearchOption.AllDirectories).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_batch_manifest_of_another_submission_gives_no_names_to_the_files()
    {
        var archive = new Archive(_submission, _recipient);
        var batch = archive.Batch(Received);
        batch.Add("file", [1, 2], "named-by-someone-else.txt");
        batch.Submission = Guid.NewGuid();
        await archive.PublishAsync(_server);

        var result = await PullAsync("-o", Folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"item {batch.ManifestId} (manifest", result.Error, StringComparison.Ordinal);
        Assert.Contains("it describes another batch or submission", result.Error, StringComparison.Ordinal);
        Assert.Equal([1, 2], await File.ReadAllBytesAsync(Path.Combine(Folder, "file-1")));
        Assert.False(File.Exists(Path.Combine(Folder, "named-by-someone-else.txt")));
    }

    [Fact]
    public async Task An_email_without_a_batch_manifest_is_pulled_byte_exact_as_message_rfc822_with_no_note()
    {
        var archive = new Archive(_submission, _recipient) { Channel = "mail" };
        var email = "From: witness@example.org\r\nSubject: =?UTF-8?B?0KTQvtGC0L4=?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nФото с площади завтра.\r\n"u8.ToArray();
        archive.Email(Received, email);
        await archive.PublishAsync(_server);

        var result = await PullAsync("-o", Folder);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(email, await File.ReadAllBytesAsync(Path.Combine(Folder, "email-1.eml")));
        Assert.Equal(["email-1.eml", "encrypted", "manifest.json"], Directory.GetFileSystemEntries(Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal)!);
        var file = Assert.Single(await PulledFilesAsync());
        Assert.Equal("email", file.GetProperty("kind").GetString());
        Assert.Equal("message/rfc822", file.GetProperty("contentType").GetString());
        Assert.Equal(email.Length, file.GetProperty("bytes").GetInt64());
        Assert.Equal(JsonValueKind.Null, file.GetProperty("note").ValueKind);
        Assert.Contains("  email-1.eml", result.OutputText.ReplaceLineEndings("\n").Split('\n'));
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    public async Task A_pgp_mime_email_is_noted_as_encrypted_by_its_sender(string newline)
    {
        // Folded and quoted, as mail clients write it: the parameters are on lines of their own.
        var email = Lines(newline,
            "From: witness@example.org",
            "Subject: ...",
            "MIME-Version: 1.0",
            "Content-Type: multipart/encrypted;",
            " protocol=\"application/pgp-encrypted\";",
            " boundary=\"------------enc0123\"",
            "",
            "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)",
            "--------------enc0123",
            "Content-Type: application/pgp-encrypted",
            "",
            "Version: 1",
            "",
            "--------------enc0123",
            "Content-Type: application/octet-stream; name=\"encrypted.asc\"",
            "",
            "-----BEGIN PGP MESSAGE-----",
            "",
            "hF4DAAAAAAAAAAASAQdAnot+really+a+message==",
            "-----END PGP MESSAGE-----",
            "",
            "--------------enc0123--",
            "");

        var (result, file) = await PullOneEmailAsync(email);

        Assert.Equal("sender encrypted it (PGP/MIME)", file.GetProperty("note").GetString());
        Assert.Contains("  email-1.eml  (sender encrypted it (PGP/MIME): its content opens only with the key it was sent to)", result.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_inline_armored_email_is_noted_as_encrypted_by_its_sender()
    {
        var email = Lines("\r\n",
            "From: witness@example.org",
            "Subject: documents",
            "Content-Type: text/plain; charset=us-ascii",
            "",
            "-----BEGIN PGP MESSAGE-----",
            "",
            "hF4DAAAAAAAAAAASAQdAnot+really+a+message==",
            "-----END PGP MESSAGE-----",
            "");

        var (result, file) = await PullOneEmailAsync(email);

        Assert.Equal("sender encrypted it (inline PGP)", file.GetProperty("note").GetString());
        Assert.Contains("  email-1.eml  (sender encrypted it (inline PGP): its content opens only with the key it was sent to)", result.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_the_headers_of_an_email_and_its_first_64_KiB_mark_it_as_encrypted_by_its_sender()
    {
        // A forwarded PGP/MIME email's headers in the body, and armor past where the gateway ever looked.
        var email = Encoding.ASCII.GetBytes(Lines("\r\n",
            "From: witness@example.org",
            "Subject: Fwd: what they sent me",
            "Content-Type: text/plain; charset=us-ascii",
            "",
            "---------- Forwarded message ---------",
            "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"x\"",
            "") + new string('.', 64 * 1024) + "\r\n-----BEGIN PGP MESSAGE-----\r\n");

        var (result, file) = await PullOneEmailAsync(email);

        Assert.Equal(JsonValueKind.Null, file.GetProperty("note").ValueKind);
        Assert.DoesNotContain("sender encrypted it", result.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_email_whose_headers_cannot_be_parsed_is_still_noted_for_inline_armor()
    {
        // No header block at all: a witness's client that sent the armored text as the whole message.
        var (_, file) = await PullOneEmailAsync(Lines("\r\n",
            "-----BEGIN PGP MESSAGE-----",
            "",
            "hF4DAAAAAAAAAAASAQdAnot+really+a+message==",
            "-----END PGP MESSAGE-----",
            ""));

        Assert.Equal("sender encrypted it (inline PGP)", file.GetProperty("note").GetString());
    }

    [Fact]
    public async Task An_older_email_keeps_the_note_its_batch_manifest_gave_it()
    {
        var archive = new Archive(_submission, _recipient) { Channel = "mail" };
        // The gateway of the time judged it on its own reading; nothing at the start of this email says it again.
        var email = "From: witness@example.org\r\nSubject: hello\r\n\r\nplain text\r\n"u8.ToArray();
        archive.Batch(Received).Add("email", email, null, "message/rfc822", note: "sender encrypted it (inline PGP)");
        await archive.PublishAsync(_server);

        var result = await PullAsync("-o", Folder);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(email, await File.ReadAllBytesAsync(Path.Combine(Folder, "email-1.eml")));
        var file = Assert.Single(await PulledFilesAsync());
        Assert.Equal("sender encrypted it (inline PGP)", file.GetProperty("note").GetString());
        Assert.Equal("message/rfc822", file.GetProperty("contentType").GetString());
        Assert.Contains("  email-1.eml  (sender encrypted it (inline PGP): its content opens only with the key it was sent to)", result.OutputText, StringComparison.Ordinal);
    }

    /// <summary>
    /// A folder three levels below the test's own: the "../" names of the hostile-archive tests land in real
    /// folders above it that the whole-tree search still covers.
    /// </summary>
    private string DeepFolder => Path.Combine(_files.Path, "home", "editor", "pulls", "pulled");

    /// <summary>
    /// The whole test folder, every level above the pulled one included, holds only the session and what the
    /// pull kept inside its folder: no partial file, and no file holding the refused item's plaintext or ciphertext.
    /// </summary>
    private async Task AssertNothingElseUnderTheTestFolderAsync(string folder, byte[] plaintext, byte[] ciphertext)
    {
        foreach (var file in Directory.GetFiles(_files.Path, "*", SearchOption.AllDirectories))
        {
            Assert.True(file == SessionPath || file.StartsWith(folder + "/", StringComparison.Ordinal), $"{file} was written outside {folder}");
            Assert.DoesNotContain(".partial", file, StringComparison.Ordinal);
            var content = await File.ReadAllBytesAsync(file);
            Assert.False(content.AsSpan().SequenceEqual(plaintext), $"{file} holds the refused item's plaintext");
            Assert.False(content.AsSpan().SequenceEqual(ciphertext), $"{file} holds the refused item's ciphertext");
        }
    }

    /// <summary>Pulls a mail submission of just <paramref name="email"/>, as the gateway takes one in now, and checks it came out whole.</summary>
    private async Task<(ToolResult Result, JsonElement File)> PullOneEmailAsync(byte[] email)
    {
        var archive = new Archive(_submission, _recipient) { Channel = "mail" };
        archive.Email(Received, email);
        await archive.PublishAsync(_server);

        var result = await PullAsync("-o", Folder);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(email, await File.ReadAllBytesAsync(Path.Combine(Folder, "email-1.eml")));
        return (result, Assert.Single(await PulledFilesAsync()));
    }

    private Task<(ToolResult Result, JsonElement File)> PullOneEmailAsync(string email) => PullOneEmailAsync(Encoding.ASCII.GetBytes(email));

    private async Task<List<JsonElement>> PulledFilesAsync()
    {
        using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(Folder, "manifest.json")));
        return manifest.RootElement.GetProperty("files").EnumerateArray().Select(file => file.Clone()).ToList();
    }

    private static string Lines(string newline, params string[] lines) => string.Join(newline, lines);

    private Task<ToolResult> PullAsync(params string[] arguments) =>
        DeskTool.RunAsync([Passphrase], ["pull", _submission.ToString(), "--key", _secretKey, "--session", SessionPath, .. arguments]);

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A submission archive as the server builds it: every item encrypted to the desk, with our own core.</summary>
    private sealed class Archive(Guid submission, RecipientKey recipient)
    {
        private readonly List<(string Kind, string Author, string Batch, DateTimeOffset AddedAt, string Id, byte[] Plaintext)> _plaintexts = [];
        private readonly List<Batch> _batches = [];
        private readonly HashSet<string> _tampered = [];
        private readonly Dictionary<string, string> _renamed = [];
        private readonly Dictionary<string, long> _misstated = [];

        public Dictionary<string, byte[]> Entries { get; } = [];

        public List<(string File, string Kind)> Items { get; } = [];

        public string Channel { get; set; } = "web";

        public Batch Batch(DateTimeOffset addedAt)
        {
            var batch = new Batch(this, Guid.NewGuid().ToString(), addedAt);
            _batches.Add(batch);
            return batch;
        }

        public void Reply(DateTimeOffset addedAt, byte[] text) =>
            Add("reply", "editor", Guid.NewGuid().ToString(), addedAt, text);

        /// <summary>An email as the mail gateway takes it in now: a batch of its own, and no batch manifest.</summary>
        public string Email(DateTimeOffset addedAt, byte[] raw) =>
            Add("email", "witness", Guid.NewGuid().ToString(), addedAt, raw);

        public string Add(string kind, string author, string batch, DateTimeOffset addedAt, byte[] plaintext)
        {
            var id = Guid.NewGuid().ToString();
            _plaintexts.Add((kind, author, batch, addedAt, id, plaintext));
            return id;
        }

        public void Tamper(string item) => _tampered.Add(item);

        /// <summary>The item goes into the archive, and its manifest, under <paramref name="file"/> instead of its own name.</summary>
        public void Rename(string item, string file) => _renamed[item] = file;

        /// <summary>The manifest claims <paramref name="difference"/> bytes more (or fewer) than the entry holds.</summary>
        public void Misstate(string item, long difference) => _misstated[item] = difference;

        /// <param name="servedAs">The id the server answers this archive for: another submission's, for a server that mixes them up.</param>
        public async Task PublishAsync(FakeDeskServer server, Guid? servedAs = null)
        {
            foreach (var batch in _batches)
            {
                _plaintexts.Add(("manifest", "witness", batch.Id, batch.AddedAt, batch.ManifestId, batch.ManifestJson(submission)));
            }

            var items = new List<ArchiveItem>();
            foreach (var (kind, author, batch, addedAt, id, plaintext) in _plaintexts)
            {
                var ciphertext = await EncryptAsync(plaintext);
                if (_tampered.Contains(id))
                {
                    ciphertext[^5] ^= 0x40;
                }

                var file = _renamed.GetValueOrDefault(id) ?? $"{id}.gpg";
                Entries[file] = ciphertext;
                Items.Add((file, kind));
                items.Add(new ArchiveItem(file, id, batch, kind, author, addedAt, ciphertext.Length + _misstated.GetValueOrDefault(id)));
            }

            Entries["manifest.json"] = JsonSerializer.SerializeToUtf8Bytes(
                new ArchiveManifest(ArchiveManifest.CurrentVersion, submission, "default", Channel, Received, items), ContractJson.Default.ArchiveManifest);
            using var zip = new MemoryStream();
            using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
            {
                foreach (var (name, content) in Entries)
                {
                    using var entry = archive.CreateEntry(name).Open();
                    entry.Write(content);
                }
            }

            server.Archives[servedAs ?? submission] = zip.ToArray();
        }

        private async Task<byte[]> EncryptAsync(byte[] plaintext)
        {
            using var output = new MemoryStream();
            await using (var encrypting = await OpenPgpEncryptingStream.OpenAsync(output, [recipient], CancellationToken.None))
            {
                await encrypting.WriteAsync(plaintext);
                await encrypting.CompleteAsync(CancellationToken.None);
            }

            return output.ToArray();
        }
    }

    /// <summary>One witness batch; its manifest, with the original file names, is itself an encrypted item.</summary>
    private sealed class Batch(Archive archive, string id, DateTimeOffset addedAt)
    {
        private readonly List<BatchItem> _items = [];

        public string Id => id;

        public DateTimeOffset AddedAt => addedAt;

        public string ManifestId { get; } = Guid.NewGuid().ToString();

        /// <summary>The submission the batch's own manifest names; another one's, for a server that splices batches.</summary>
        public Guid? Submission { get; set; }

        public string Add(string kind, byte[] plaintext, string? fileName = null, string contentType = "application/octet-stream", string? note = null)
        {
            var item = archive.Add(kind, "witness", id, addedAt, plaintext);
            _items.Add(new BatchItem(item, kind, fileName, contentType, plaintext.Length, note));
            return item;
        }

        public byte[] ManifestJson(Guid submission) =>
            JsonSerializer.SerializeToUtf8Bytes(
                new BatchManifest(BatchManifest.CurrentVersion, Submission ?? submission, id, "web", _items), ContractJson.Default.BatchManifest);
    }
}
