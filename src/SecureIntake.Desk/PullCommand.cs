using System.CommandLine;
using SecureIntake.Crypto.Decryption;

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
        var session = SessionFile.CreateOption();
        var command = new Command("pull", """
            Download a submission and decrypt it with your secret key: the witness's messages and files (under their
            original names, made safe), emails, editors' replies, a manifest.json listing them, and the untouched
            encrypted items under encrypted/. The passphrase is asked for on the terminal, or read from the first line
            of standard input
            """)
        {
            id, key, output, session,
        };
        command.SetAction((parse, cancellationToken) =>
            RunAsync(parse.GetValue(id)!, parse.GetValue(key)!, parse.GetValue(output), parse.GetValue(session), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string idText, FileInfo key, DirectoryInfo? output, FileInfo? sessionOption, CancellationToken cancellationToken)
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
            return await new SubmissionFolder(folder, archive, decryptor).WriteAsync(cancellationToken);
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
