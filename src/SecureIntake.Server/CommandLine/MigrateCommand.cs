using System.CommandLine;

namespace SecureIntake.Server.CommandLine;

internal static class MigrateCommand
{
    public static Command Build()
    {
        var command = new Command("migrate", "Bring the database schema (ours and Hangfire's) up to date, then exit; the roles also do this when they start");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(async () =>
        {
            var (host, applied) = await AdminHost.StartAsync(parse, cancellationToken);
            using (host)
            {
                foreach (var migration in applied)
                {
                    Console.WriteLine($"applied migration {migration}");
                }

                Console.WriteLine("database schema is up to date");
            }

            return 0;
        }));
        return command;
    }
}
