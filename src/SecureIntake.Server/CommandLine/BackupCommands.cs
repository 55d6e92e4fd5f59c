using System.CommandLine;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Backup;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Storage;
using SecureIntake.Server.Hosting;

namespace SecureIntake.Server.CommandLine;

/// <summary>`secureintake backup --to DIR` and `secureintake restore --from DIR`.</summary>
internal static class BackupCommands
{
    private const string PepperNotice =
        "The codename pepper is NOT in the backup (it holds only ciphertext and metadata). Keep a copy of the pepper apart from the backups, " +
        "offline: a restore without the same pepper leaves every witness unable to come back with their codename.";

    public static Command Backup()
    {
        var to = new Option<DirectoryInfo>("--to")
        {
            Description = "A new or empty folder for the backup (made if missing, readable by its owner only)",
            Required = true,
            HelpName = "DIR",
        };
        var backup = new Command("backup", """
            Write a consistent backup while the service runs: a pg_dump of the database and every encrypted item it names, then
            manifest.json with each file's size and SHA-256, written last. pg_dump of the server's major version must be installed
            (in Debian's /usr/lib/postgresql/N/bin or on PATH, or in a folder listed in Backup:ToolDirectories). Everything in it
            is ciphertext or metadata; the codename pepper is not in it. Deleting submissions waits until the backup is done;
            intake goes on.
            """) { to };
        backup.TreatUnmatchedTokensAsErrors = false;
        backup.SetAction((parse, cancellationToken) => RunAsync(parse, async (database, blobs, tools) =>
        {
            var summary = await BackupWriter.WriteAsync(database, blobs, parse.GetValue(to)!.FullName, tools, cancellationToken);
            Console.WriteLine($"backup written to {summary.Folder}: the database dump, {summary.Blobs} encrypted items and manifest.json ({summary.TotalBytes} bytes in all)");
            Console.WriteLine(PepperNotice);
            Console.WriteLine($"Restore it with `secureintake restore --from {summary.Folder}` onto an empty database and an empty blob directory.");
            return 0;
        }));
        return backup;
    }

    public static Command Restore()
    {
        var from = new Option<DirectoryInfo>("--from")
        {
            Description = "A folder written by `secureintake backup`",
            Required = true,
            HelpName = "DIR",
        };
        var restore = new Command("restore", """
            Bring a backup back onto an EMPTY database (Database:ConnectionString) and an EMPTY blob directory (Storage:BlobDirectory).
            The whole backup is checked against its manifest first (every file there, sizes and SHA-256 digests match, nothing
            extra); a partial or mismatched copy is refused and nothing is changed. The dump is loaded in one transaction: if it
            fails, the database stays empty and the copied blobs are removed again. Run it with the services stopped, as the user
            the services run as, then start them with the same pepper as before.
            """) { from };
        restore.TreatUnmatchedTokensAsErrors = false;
        restore.SetAction((parse, cancellationToken) => RunAsync(parse, async (database, blobs, tools) =>
        {
            var summary = await BackupRestorer.RestoreAsync(database, blobs, parse.GetValue(from)!.FullName, tools, cancellationToken);
            Console.WriteLine($"restored {summary.Submissions} submissions and {summary.Blobs} encrypted items into {blobs}");
            Console.WriteLine("The codename pepper was not in the backup: give the service the same pepper as before (Codenames:PepperFile), or witnesses cannot come back.");
            return 0;
        }));

        return restore;
    }

    /// <summary>
    /// Reads and checks only the database and blob settings: neither command migrates (a backup copies the schema as it is,
    /// and a restore needs the database still empty), and neither needs the pepper.
    /// </summary>
    private static Task<int> RunAsync(ParseResult parse, Func<string, string, PostgresTools, Task<int>> action) => CommandErrors.RunAsync(async () =>
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        Settings.Apply(builder.Configuration, parse);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSecureIntake(builder.Configuration, roles: 0);
        builder.Services.AddOptions<PostgresToolOptions>().Bind(builder.Configuration.GetSection(PostgresToolOptions.Section));
        using var host = builder.Build();
        var database = host.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString;
        var blobs = host.Services.GetRequiredService<IOptions<BlobStoreOptions>>().Value.BlobDirectory;
        var tools = new PostgresTools(host.Services.GetRequiredService<IOptions<PostgresToolOptions>>().Value);
        try
        {
            return await action(database, blobs, tools);
        }
        catch (BackupRefusedException e)
        {
            return CommandErrors.Fail(e.ExitCode, e.Message);
        }
    });
}
