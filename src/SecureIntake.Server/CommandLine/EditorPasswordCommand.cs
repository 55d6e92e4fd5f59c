using System.CommandLine;
using SecureIntake.Core.Editors;

namespace SecureIntake.Server.CommandLine;

/// <summary>`secureintake editors set-password NAME`: an admin sets a password the editor must replace at their next sign-in.</summary>
internal static class EditorPasswordCommand
{
    public static Command Build()
    {
        var name = new Argument<string>("NAME") { Description = "The editor's sign-in name" };
        var command = new Command("set-password", """
            Set an editor's password (asked for twice on the terminal, or read from the first line of standard input),
            say when they forgot theirs. Their sessions end, a lock-out is cleared, and at their next sign-in they must
            choose a password of their own.
            """) { name };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(async () =>
        {
            var password = SecretInput.Read($"New password for {parse.GetValue(name)}: ");
            if (!Console.IsInputRedirected && SecretInput.Read("Repeat it: ") != password)
            {
                return CommandErrors.Fail(CommandErrors.Refused, "the two passwords differ; nothing was changed");
            }

            var (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
            using (host)
            {
                await host.Services.GetRequiredService<EditorStore>().SetPasswordByAdminAsync(parse.GetValue(name)!, password, cancellationToken);
                Console.WriteLine($"set a new password for {EditorStore.NormalizeName(parse.GetValue(name)!)}; their sessions ended, "
                    + "and they must choose their own at their next sign-in");
            }

            return 0;
        }));
        return command;
    }
}
