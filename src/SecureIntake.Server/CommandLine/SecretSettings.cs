using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace SecureIntake.Server.CommandLine;

/// <summary>
/// The secret settings. Each can be read from a file named by its `...File` setting (which is how systemd's
/// LoadCredential= hands them over), and none may be given as a command-line argument: every local user can
/// read a process's arguments (ps, /proc/PID/cmdline). Environment variables and settings files stay allowed.
/// </summary>
internal static partial class SecretSettings
{
    public const string ConnectionString = "Database:ConnectionString";

    // Bigger than any password or pepper: a larger file is the wrong file (or a device that never ends).
    private const int MaxFileBytes = 64 * 1024;

    /// <summary>The secrets by setting, and the setting that names a file holding each. The database password lives inside the connection string.</summary>
    private static readonly (string Setting, string FileSetting)[] Secrets =
    [
        ("Codenames:Pepper", "Codenames:PepperFile"),
        ("Database:Password", "Database:PasswordFile"),
        ("Mail:Imap:Password", "Mail:Imap:PasswordFile"),
        ("Mail:Smtp:Password", "Mail:Smtp:PasswordFile"),
    ];

    /// <summary>Refuses a secret given as a --Section:Key=value argument, naming the file setting to use instead; the value is never repeated.</summary>
    public static void RefuseInArguments(IEnumerable<string> tokens)
    {
        foreach (var token in tokens.Where(t => t.StartsWith("--", StringComparison.Ordinal)))
        {
            var separator = token.IndexOf('=', StringComparison.Ordinal);
            var key = (separator < 0 ? token[2..] : token[2..separator]).Replace("__", ":", StringComparison.Ordinal);
            var value = separator < 0 ? "" : token[(separator + 1)..];
            var fileSetting = Secrets.FirstOrDefault(s => string.Equals(s.Setting, key, StringComparison.OrdinalIgnoreCase)).FileSetting;
            if (fileSetting is null && string.Equals(key, ConnectionString, StringComparison.OrdinalIgnoreCase) && HoldsPassword(value))
            {
                fileSetting = "Database:PasswordFile";
                key = $"a password in --{ConnectionString}";
            }
            else
            {
                key = $"--{key}";
            }

            if (fileSetting is not null)
            {
                throw new SettingsException(
                    $"{key} is refused on the command line: every local user can read a process's arguments (ps, /proc). " +
                    $"Put the secret in a file only the service can read and give its path as {fileSetting} " +
                    $"(e.g. --{fileSetting}=${{CREDENTIALS_DIRECTORY}}/... with systemd's LoadCredential=), or set it in the environment or a settings file");
            }
        }
    }

    /// <summary>
    /// Reads every secret named by a `...File` setting, once, and adds the values as the last configuration source,
    /// so they win over every other. A file that is missing, unreadable or empty, or a secret also given directly, is refused.
    /// </summary>
    public static void ApplyFiles(IConfigurationManager configuration)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (setting, fileSetting) in Secrets)
        {
            if (configuration[fileSetting] is not { Length: > 0 } path)
            {
                continue;
            }

            var secret = ReadSecretFile(fileSetting, path);
            if (setting == "Database:Password")
            {
                values[ConnectionString] = WithPassword(configuration[ConnectionString] ?? "", secret);
            }
            else if (!string.IsNullOrEmpty(configuration[setting]))
            {
                throw new SettingsException($"both {setting} and {fileSetting} are set; keep only {fileSetting}");
            }
            else
            {
                values[setting] = secret;
            }
        }

        if (values.Count > 0)
        {
            configuration.AddInMemoryCollection(values);
        }
    }

    private static string WithPassword(string connectionString, string password)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new SettingsException($"{ConnectionString} is not a valid connection string, so Database:PasswordFile cannot be added to it: {e.Message}");
        }

        if (!string.IsNullOrEmpty(builder.Password))
        {
            throw new SettingsException($"{ConnectionString} holds a password and Database:PasswordFile is set too; remove the password from the connection string");
        }

        builder.Password = password;
        return builder.ConnectionString;
    }

    private static string ReadSecretFile(string fileSetting, string path)
    {
        byte[] bytes;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            bytes = new byte[MaxFileBytes + 1];
            var length = 0;
            while (length < bytes.Length && file.Read(bytes, length, bytes.Length - length) is > 0 and var read)
            {
                length += read;
            }

            if (length > MaxFileBytes)
            {
                throw new SettingsException($"{fileSetting}: '{path}' is larger than {MaxFileBytes / 1024} KiB; it does not look like a secret file");
            }

            Array.Resize(ref bytes, length);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SettingsException($"{fileSetting}: '{path}' does not exist");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SettingsException($"{fileSetting}: '{path}' cannot be read ({e.Message})");
        }

        // One trailing line end is what `echo` and editors add; anything else belongs to the secret.
        var text = Encoding.UTF8.GetString(bytes);
        text = text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
        return string.IsNullOrWhiteSpace(text) ? throw new SettingsException($"{fileSetting}: '{path}' is empty") : text;
    }

    private static bool HoldsPassword(string connectionString)
    {
        try
        {
            return !string.IsNullOrEmpty(new NpgsqlConnectionStringBuilder(connectionString).Password);
        }
        catch (ArgumentException)
        {
            // Not a valid connection string (the options check says so later); judge it by its words alone.
            return PasswordKeyword().IsMatch(connectionString);
        }
    }

    [GeneratedRegex(@"(^|;)\s*(password|pwd|psw)\s*=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordKeyword();
}
