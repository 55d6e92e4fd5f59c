using System.CommandLine;

namespace SecureIntake.Desk;

/// <summary>`secureintake-desk login --server URL --name NAME`: signs in once; list and pull use the saved session.</summary>
internal static class LoginCommand
{
    public static Command Build()
    {
        var server = new Option<string>("--server") { HelpName = "URL", Description = DeskServerAddress.Help, Required = true };
        var name = new Option<string>("--name") { HelpName = "NAME", Description = "Your editor name on the desk", Required = true };
        var session = SessionFile.CreateOption();
        var command = new Command("login", """
            Sign in to the desk. The password and then the 6-digit code from your authenticator app are asked for on
            the terminal, or read from the first two lines of standard input
            """)
        {
            server, name, session,
        };
        command.SetAction((parse, cancellationToken) =>
            RunAsync(parse.GetValue(server)!, parse.GetValue(name)!, parse.GetValue(session), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string server, string name, FileInfo? sessionOption, CancellationToken cancellationToken)
    {
        try
        {
            // Everything that can be refused without the password is refused before it is asked for.
            using var api = DeskApiClient.Anonymous(server);
            _ = SessionFile.PathOf(sessionOption);
            if (string.IsNullOrWhiteSpace(name))
            {
                return Failure.Report("--name is empty");
            }

            var password = Passphrase.ReadSecret($"Password for {TerminalText.Clean(name)} on {api.Server}: ");
            if (password.Length == 0)
            {
                return Failure.Report("no password was given");
            }

            // Authenticator apps show the code as "123 456"; it is typed either way.
            var code = Passphrase.ReadSecret("6-digit code from your authenticator app: ").Replace(" ", "", StringComparison.Ordinal).Trim();
            if (code.Length != 6 || !code.All(char.IsAsciiDigit))
            {
                return Failure.Report("the code must be the 6 digits your authenticator app shows");
            }

            var answer = await api.SignInAsync(name, password, code, cancellationToken);
            var sessionPath = await SessionFile.SaveAsync(sessionOption, new DeskSession(api.Server, answer.Token, answer.ExpiresAt), cancellationToken);
            Console.WriteLine($"signed in to {api.Server} as {TerminalText.Clean(name)}; the session expires at {Display.Minute(answer.ExpiresAt)} (kept in {sessionPath})");
            return 0;
        }
        catch (DeskToolException e)
        {
            return Failure.Report(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Failure.Report($"cannot save the session: {e.Message}");
        }
    }
}
