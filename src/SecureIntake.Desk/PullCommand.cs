using System.CommandLine;
using System.Text.Json;
using SecureIntake.Crypto.Decryption;
using SecureIntake.Desk.Scrub;

namespace SecureIntake.Desk;

/// <summary>
/// `secureintake-desk pull ID --key KEY`: downloads a submission's archive and decrypts it on the editor's
/// machine, into a folder that also keeps the untouched encrypted items for decrypting again offline.
/// </summary>
internal static class PullCommand
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static Command Build()
    {
        var id = new Argument<string>("ID") { Description = "The submission's id, as `secureintake-desk list` shows it" };
        var key = new Option<FileInfo>("--key") { HelpName = "KEY", Description = "Your secret key file (armored or binary, e.g. from `gpg --export-secret-keys --armor`)", Required = true };
        var output = new Option<DirectoryInfo?>("--output", "-o")
        {
            HelpName = "DIR",
            Description = "The folder to write into (default: ./submission-<first 8 characters of ID>); it must not exist yet, or be empty",
        };
        var scrub = new Option<bool>("--scrub")
        {
            Description = "Also write beside each of the witness's files a copy cleaned of metadata (NAME.clean.EXT) and a report "
                + "(NAME.EXT.scrub.txt), as `secureintake-desk scrub` does; see `secureintake-desk scrub --help` for what it covers",
        };
        var session = SessionFile.CreateOption();
        var command = new Command("pull", """
            Download a submission and decrypt it with your secret key: the witness's messages and files (under their
            original names, made safe), emails, editors' replies, a manifest.json listing them, and the untouched
            encrypted items under encrypted/. The passphrase is asked for on the terminal, or read from the first line
            of standard input
            """)
        {
            id, key, output, scrub, session,
        };
        command.SetAction((parse, cancellationToken) =>
            RunAsync(parse.GetValue(id)!, parse.GetValue(key)!, parse.GetValue(output), parse.GetValue(scrub), parse.GetValue(session), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string idText, FileInfo key, DirectoryInfo? output, bool scrub, FileInfo? sessionOption, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(idText, out var id))
        {
            return Failure.Report($"'{TerminalText.Clean(idText)}' is not a submission id; `secureintake-desk list` shows them");
        }

        if (!key.Exists)
        {
            return Failure.Report($"'{key.FullName}' does not exist");
        }

        var folder = output?.FullName ?? Path.GetFullPath("submission-" + id.ToString("D")[..8]);
        if (File.Exists(folder) || (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any()))
        {
            return Failure.Report($"'{folder}' already exists and is not an empty folder; choose another place with --output");
        }

        var created = !Directory.Exists(folder);
        var archivePath = Path.Combine(folder, $".submission-{id:N}.zip.partial");
        try
        {
            var session = await SessionFile.LoadAsync(SessionFile.PathOf(sessionOption), cancellationToken);
            Directory.CreateDirectory(folder, SubmissionFolder.OwnerOnlyDirectory);
            using var api = DeskApiClient.ForSession(session);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnlyFile };
            await using (var download = new FileStream(archivePath, options))
            {
                await api.DownloadArchiveAsync(id, download, cancellationToken);
            }

            using var archive = await SubmissionArchive.OpenAsync(archivePath, id, cancellationToken);
            var decryptor = OpenPgpDecryptor.FromSecretKeys(await File.ReadAllBytesAsync(key.FullName, cancellationToken), Passphrase.Read());
            var pulled = await new SubmissionFolder(folder, archive, decryptor).WriteAsync(cancellationToken);
            return scrub ? Math.Max(pulled, await ScrubFilesAsync(folder, cancellationToken)) : pulled;
        }
        catch (DeskToolException e)
        {
            return Failure.Report(e.Message);
        }
        catch (DecryptionException e)
        {
            return Failure.Report($"{key.Name}: {e.Message}; nothing was written");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Failure.Report($"cannot write into '{folder}': {e.Message}");
        }
        finally
        {
            if (File.Exists(archivePath))
            {
                File.Delete(archivePath);
            }

            if (created)
            {
                RemoveIfEmpty(folder);
            }
        }
    }

    /// <summary>The witness's files, as manifest.json lists them; messages, emails and replies are text, not files to clean.</summary>
    private static async Task<int> ScrubFilesAsync(string folder, CancellationToken cancellationToken)
    {
        var manifestPath = Path.Combine(folder, SubmissionArchive.ManifestEntry);
        if (!File.Exists(manifestPath))
        {
            return 0;
        }

        PulledManifest manifest;
        await using (var stream = File.OpenRead(manifestPath))
        {
            manifest = await JsonSerializer.DeserializeAsync(stream, DeskJson.Default.PulledManifest, cancellationToken)
                ?? throw new DeskToolException($"'{manifestPath}' is empty");
        }

        var files = manifest.Files.Where(file => file.Kind == "file").Select(file => Path.Combine(folder, file.Name)).ToList();
        Console.WriteLine($"scrubbing {files.Count} file(s):");
        return await ScrubCommand.RunAsync(files, cancellationToken);
    }

    /// <summary>A folder this command made and left empty (the download failed) is not left behind.</summary>
    private static void RemoveIfEmpty(string folder)
    {
        try
        {
            if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
            {
                Directory.Delete(folder);
            }
        }
        catch (IOException)
        {
            // Something appeared in it meanwhile: it stays.
        }
    }
}
