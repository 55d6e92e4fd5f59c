using System.CommandLine;
using System.Text.Json;

namespace SecureIntake.Desk;

/// <summary>
/// Where the sign-in is kept between commands. The token is as good as the password until it expires, so the
/// file is the owner's alone (0600) and so is the folder it is created in (0700).
/// </summary>
internal static class SessionFile
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static Option<FileInfo?> CreateOption() => new("--session")
    {
        HelpName = "FILE",
        Description = "The session file (default: $XDG_CONFIG_HOME/secureintake-desk/session.json, else ~/.config/secureintake-desk/session.json)",
    };

    public static string PathOf(FileInfo? option) => option?.FullName ?? Path.GetFullPath(DefaultPath());

    /// <returns>Where the session was saved.</returns>
    public static async Task<string> SaveAsync(FileInfo? option, DeskSession session, CancellationToken cancellationToken)
    {
        var path = PathOf(option);
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        }
        else if (option is null)
        {
            // Our own folder, perhaps made by hand or an older version: tighten it. A folder given with
            // --session may be shared (/tmp), and is left as it is.
            File.SetUnixFileMode(directory, OwnerOnlyDirectory);
        }

        // Written whole beside the target, then renamed over it: a new sign-in replaces the old one at once,
        // and a crash never leaves half a file or one with looser permissions.
        var partial = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.partial");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnlyFile };
            await using (var stream = new FileStream(partial, options))
            {
                await JsonSerializer.SerializeAsync(stream, session, DeskJson.Default.DeskSession, cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }

            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }

        return path;
    }

    /// <summary>The session, refused early when it is missing, unreadable or expired: no call is made with it then.</summary>
    public static async Task<DeskSession> LoadAsync(string path, CancellationToken cancellationToken)
    {
        DeskSession? session;
        try
        {
            await using var stream = File.OpenRead(path);
            session = await JsonSerializer.DeserializeAsync(stream, DeskJson.Default.DeskSession, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DeskToolException($"you are not signed in (there is no {path}); run `secureintake-desk login --server URL --name NAME` first");
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new DeskToolException($"the session file {path} cannot be read ({e.Message}); run `secureintake-desk login` again");
        }

        if (session is null)
        {
            throw new DeskToolException($"the session file {path} is empty; run `secureintake-desk login` again");
        }

        if (session.ExpiresAt <= DateTimeOffset.UtcNow)
        {
            throw new DeskToolException($"your session expired at {Display.Minute(session.ExpiresAt)}; run `secureintake-desk login` again");
        }

        return session;
    }

    private static string DefaultPath()
    {
        // The XDG spec has relative values ignored.
        var config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        if (string.IsNullOrEmpty(config) || !Path.IsPathRooted(config))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home))
            {
                throw new DeskToolException("there is no home folder to keep the session in; give one with --session FILE");
            }

            config = Path.Combine(home, ".config");
        }

        return Path.Combine(config, "secureintake-desk", "session.json");
    }
}
