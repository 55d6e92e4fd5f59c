using System.CommandLine;
using System.Text;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Server.CommandLine;

/// <summary>`secureintake editors add|list|disable|enable|reset-2fa`: the desk's accounts.</summary>
internal static class EditorsCommands
{
    public static Command Build()
    {
        var name = new Argument<string>("NAME") { Description = "The editor's sign-in name (lower-case letters, digits, '.', '_', '-')" };
        var admin = new Option<bool>("--admin") { Description = "Make the editor an admin (manages editors, desks and keys)" };
        var key = new Option<FileInfo?>("--key") { Description = "The editor's own OpenPGP public key: added to the desk's recipients, so they can read what arrives" };
        var desk = new Option<string>("--desk") { Description = "The desk --key is added to", DefaultValueFactory = _ => RecipientStore.DefaultDesk };
        var email = new Option<string?>("--email") { Description = "Where to tell them about new activity (counts only, encrypted to --key when given)" };

        var add = new Command("add", """
            Add an editor. The password is asked for twice on the terminal (or read from the first line of standard
            input); the TOTP secret for their authenticator app is printed once, never again.
            """) { name, admin, key, desk, email };
        add.TreatUnmatchedTokensAsErrors = false;
        add.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(() =>
            AddAsync(parse, parse.GetValue(name)!, parse.GetValue(admin), parse.GetValue(key), parse.GetValue(desk)!, parse.GetValue(email), cancellationToken)));

        var list = new Command("list", "List the editors, their roles and whether they are disabled");
        list.TreatUnmatchedTokensAsErrors = false;
        list.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(() => ListAsync(parse, cancellationToken)));

        var disable = new Command("disable", "Disable an editor: sign-in is refused and their sessions end at once") { name };
        disable.TreatUnmatchedTokensAsErrors = false;
        disable.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(() =>
            WithStoreAsync(parse, store => store.DisableAsync(parse.GetValue(name)!, cancellationToken), $"disabled {parse.GetValue(name)}; their sessions ended", cancellationToken)));

        var enable = new Command("enable", "Enable a disabled editor again (and clear a lock-out after failed sign-ins)") { name };
        enable.TreatUnmatchedTokensAsErrors = false;
        enable.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(() =>
            WithStoreAsync(parse, store => store.EnableAsync(parse.GetValue(name)!, cancellationToken), $"enabled {parse.GetValue(name)}", cancellationToken)));

        var reset = new Command("reset-2fa", "Give an editor a new TOTP secret (printed once); the old one stops working and their sessions end") { name };
        reset.TreatUnmatchedTokensAsErrors = false;
        reset.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(() => ResetAsync(parse, parse.GetValue(name)!, cancellationToken)));

        return new Command("editors", "Manage the editors who sign in to the desk") { add, list, disable, enable, reset };
    }

    private static async Task<int> AddAsync(ParseResult parse, string name, bool admin, FileInfo? key, string desk, string? email, CancellationToken cancellationToken)
    {
        KeyVerdict? verdict = null;
        if (key is not null)
        {
            var verdicts = await RecipientKeyReader.ReadFileAsync(key.FullName, DateTimeOffset.UtcNow, cancellationToken);
            if (verdicts.Count != 1 || !verdicts[0].IsUsable)
            {
                KeyReport.Write(Console.Out, verdicts, DateTimeOffset.UtcNow);
                return CommandErrors.Fail(CommandErrors.Refused, "--key must hold exactly one usable public key; the editor was not added");
            }

            verdict = verdicts[0];
        }

        var password = SecretInput.Read("Password for the new editor: ");
        if (!Console.IsInputRedirected && SecretInput.Read("Repeat it: ") != password)
        {
            return CommandErrors.Fail(CommandErrors.Refused, "the two passwords differ; the editor was not added");
        }

        var (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
        using (host)
        {
            var editors = host.Services.GetRequiredService<EditorStore>();
            var enrolment = await editors.AddAsync(name, admin ? EditorRole.Admin : EditorRole.Editor, password, cancellationToken);
            Console.WriteLine($"added {(admin ? "admin" : "editor")} {enrolment.Editor.Name}");
            WriteEnrolment(enrolment, host);
            if (verdict is not null)
            {
                await host.Services.GetRequiredService<RecipientStore>().AddAsync(desk, verdict.Fingerprint, verdict.Certificate, cancellationToken);
                Console.WriteLine($"added their key {verdict.Fingerprint} to desk '{desk}'");
            }

            if (email is not null || verdict is not null)
            {
                await editors.SetNotificationAsync(enrolment.Editor.Name, email, verdict?.Fingerprint, cancellationToken);
                if (email is not null)
                {
                    Console.WriteLine($"new activity is told to {email}{(verdict is null ? " as a generic notice (no key to encrypt counts to)" : ", encrypted to their key")}");
                }
            }
        }

        return 0;
    }

    private static async Task<int> ListAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
        using (host)
        {
            var editors = await host.Services.GetRequiredService<EditorStore>().ListAsync(cancellationToken);
            if (editors.Count == 0)
            {
                Console.WriteLine("no editors yet; add one with `secureintake editors add NAME --admin`");
            }

            foreach (var editor in editors)
            {
                Console.WriteLine($"{editor.Name,-24} {(editor.Role == EditorRole.Admin ? "admin" : "editor"),-7} {(editor.Disabled ? "disabled" : "active")}");
            }
        }

        return 0;
    }

    private static async Task<int> ResetAsync(ParseResult parse, string name, CancellationToken cancellationToken)
    {
        var (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
        using (host)
        {
            var enrolment = await host.Services.GetRequiredService<EditorStore>().ResetTwoFactorAsync(name, cancellationToken);
            Console.WriteLine($"reset the second factor of {enrolment.Editor.Name}; their sessions ended");
            WriteEnrolment(enrolment, host);
        }

        return 0;
    }

    private static async Task<int> WithStoreAsync(ParseResult parse, Func<EditorStore, Task> change, string done, CancellationToken cancellationToken)
    {
        var (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
        using (host)
        {
            await change(host.Services.GetRequiredService<EditorStore>());
            Console.WriteLine(done);
        }

        return 0;
    }

    private static void WriteEnrolment(TwoFactorEnrolment enrolment, IHost host)
    {
        var issuer = host.Services.GetRequiredService<IConfiguration>()["Web:NewsroomName"] ?? "SecureIntake";
        Console.WriteLine($"TOTP secret (enter it in their authenticator app now; it is not shown again): {Totp.ToBase32(enrolment.TotpSecret)}");
        Console.WriteLine($"or as a link/QR code: {enrolment.ProvisioningUri(issuer)}");
    }
}

/// <summary>Reads a secret without echoing it on a terminal, or the next line of standard input when that is not a terminal.</summary>
internal static class SecretInput
{
    public static string Read(string prompt)
    {
        if (Console.IsInputRedirected)
        {
            return Console.In.ReadLine() ?? "";
        }

        Console.Error.Write(prompt);
        var secret = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                Console.Error.WriteLine();
                return secret.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (secret.Length > 0)
                {
                    secret.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                secret.Append(key.KeyChar);
            }
        }
    }
}
