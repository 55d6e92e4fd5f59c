using System.CommandLine;

using SecureIntake.Server.Hosting;

namespace SecureIntake.Server.CommandLine;

/// <summary>The `secureintake` command tree: service roles, migrations and recipient keys.</summary>
internal static class Commands
{
    /// <summary>An extra JSON settings file, read after appsettings.json and before environment and command line.</summary>
    public static readonly Option<FileInfo?> ConfigFile = new("--config")
    {
        Description = "A JSON settings file (read after appsettings.json; SECUREINTAKE_* environment variables and --Section:Key=value arguments override it)",
        Recursive = true,
        HelpName = "FILE",
    };

    public static RootCommand Build()
    {
        var all = RunCommands.Role("all", "Run the web and worker roles in one process (the default)", ServiceRoles.All);
        var root = new RootCommand("""
            SecureIntake: a newsroom's secure tip line. Everything a witness sends is encrypted to the editors'
            OpenPGP keys the moment it arrives.

            Settings come from appsettings.json, --config FILE, SECUREINTAKE_* environment variables (for example
            SECUREINTAKE_Database__ConnectionString) and --Section:Key=value arguments, in that order.
            """)
        {
            ConfigFile,
            all,
            RunCommands.Role("web", "Run only the web role (witness and desk pages); needs no mail credentials", ServiceRoles.Web),
            RunCommands.Role("worker", "Run only the worker role (the Hangfire server: queued and recurring jobs)", ServiceRoles.Worker),
            MigrateCommand.Build(),
            KeysCommands.Build(),
            WithSubcommand(EditorsCommands.Build(), EditorPasswordCommand.Build()),
            DesksCommands.Build(),
            IngestMailCommand.Build(),
            BackupCommands.Backup(),
            BackupCommands.Restore(),
        };
        root.TreatUnmatchedTokensAsErrors = false;
        root.SetAction((parse, cancellationToken) => RunCommands.RunAsync(parse, ServiceRoles.All, cancellationToken));
        return root;
    }

    private static Command WithSubcommand(Command command, Command subcommand)
    {
        command.Subcommands.Add(subcommand);
        return command;
    }
}
