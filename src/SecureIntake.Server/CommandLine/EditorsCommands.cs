using System.CommandLine;
using System.Text;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Server.CommandLine;

/// <summary>`secureintake editors add|list|desks|disable|enable|reset-2fa`: the desk's accounts and the desks each may see.</summary>
internal static class EditorsCommands
{
    public static Command Build()
    {
        var name = new Argument<string>("NAME") { Description = "The editor's sign-in name (lower-case letters, digits, '.', '_', '-')" };
        var admin = new Option<bool>("--admin") { Description = "Make the editor an admin (manages editors, desks and keys)" };
        var key = new Option<FileInfo?>("--key")
        {
            Description = "The editor's own OpenPGP public key: added to the recipients of each of their desks, so they can read what arrives there",
        };
        var desk = new Option<string[]>("--desk")
        {
            Description = $"A desk the editor is a member of: they see and act only on its submissions (repeat for several; default: '{RecipientStore.DefaultDesk}')",
            HelpName = "DESK",
        };
        var email = new Option<string?>("--email") { Description = "Where to tell them about new activity (counts only, encrypted to --key when given)" };
        var join = new Option<string[]>("--join") { Description = "Make the editor a member of this desk (repeat for several)", HelpName = "DESK" };
        var leave = new Option<string[]>("--leave") { Description = "End the editor's membership of this desk (repeat for several)", HelpName = "DESK" };

        var add = new Command("add", """
            Add an editor. The password is asked for twice on the terminal (or read from the first line of standard
            input); the TOTP secret for their authenticator app is printed once, never again. The editor sees only
            the submissions of their desks (--desk); an admin sees every desk.
            """) { name, admin, key, desk, email };
        add.TreatUnmatchedTokensAsErrors = false;
        add.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(() =>
            AddAsync(parse, parse.GetValue(name)!, parse.GetValue(admin), parse.GetValue(key), Desks(parse.GetValue(desk)), parse.GetValue(email), cancellationToken)));

        var desks = new Command("desks", """
            Show the desks an editor is a member of, after joining (--join) and leaving (--leave) the ones given. An
            editor sees and acts only on their desks' submissions; others answer as if they did not exist. Admins see
            every desk whatever their memberships. Every change is in the audit log.
            """) { name, join, leave };
        desks.TreatUnmatchedTokensAsErrors = false;
        desks.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(() =>
            DesksAsync(parse, parse.GetValue(name)!, parse.GetValue(join) ?? [], parse.GetValue(leave) ?? [], cancellationToken)));

        var list = new Command("list", "List the editors, their roles, whether they are disabled, and their desks");
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

        return new Command("editors", "Manage the editors who sign in to the desk") { add, list, desks, disable, enable, reset };
    }

    private static string[] Desks(string[]? given) => given is { Length: > 0 } ? [.. given.Distinct(StringComparer.Ordinal)] : [RecipientStore.DefaultDesk];

    private static async Task<int> AddAsync(ParseResult parse, string name, bool admin, FileInfo? key, string[] desks, string? email,
        CancellationToken cancellationToken)
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
            var membership = host.Services.GetRequiredService<DeskMembership>();
            // An unknown desk is refused before the editor exists, so a typo leaves no account behind.
            await membership.CheckDesksExistAsync(desks, cancellationToken);
            var enrolment = await editors.AddAsync(name, admin ? EditorRole.Admin : EditorRole.Editor, password, cancellationToken);
            Console.WriteLine($"added {(admin ? "admin" : "editor")} {enrolment.Editor.Name}");
            WriteEnrolment(enrolment, host);
            await membership.JoinAsync(null, enrolment.Editor.Name, desks, cancellationToken);
            Console.WriteLine(admin
                ? $"member of {DeskList(desks)} (as an admin they see every desk)"
                : $"member of {DeskList(desks)}: they see only {(desks.Length == 1 ? "its" : "their")} submissions");
            if (verdict is not null)
            {
                foreach (var desk in desks)
                {
                    await host.Services.GetRequiredService<RecipientStore>().AddAsync(desk, verdict.Fingerprint, verdict.Certificate, cancellationToken);
                    Console.WriteLine($"added their key {verdict.Fingerprint} to desk '{desk}'");
                }
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

            var desks = await host.Services.GetRequiredService<DeskMembership>().AllAsync(cancellationToken);
            foreach (var editor in editors)
            {
                var theirs = editor.Role == EditorRole.Admin ? "every desk" : desks.TryGetValue(editor.Name, out var names) ? string.Join(", ", names) : "no desk";
                Console.WriteLine($"{editor.Name,-24} {(editor.Role == EditorRole.Admin ? "admin" : "editor"),-7} {(editor.Disabled ? "disabled" : "active"),-8} {theirs}");
            }
        }

        return 0;
    }

    private static async Task<int> DesksAsync(ParseResult parse, string name, string[] join, string[] leave, CancellationToken cancellationToken)
    {
        if (join.Intersect(leave, StringComparer.Ordinal).FirstOrDefault() is { } both)
        {
            return CommandErrors.Fail(CommandErrors.Refused, $"desk '{both}' is both joined and left; nothing was changed");
        }

        var (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
        using (host)
        {
            var membership = host.Services.GetRequiredService<DeskMembership>();
            // Every name is checked before anything changes: one unknown desk changes nothing.
            await membership.CheckDesksExistAsync([.. join, .. leave], cancellationToken);
            var editor = EditorStore.NormalizeName(name);
            foreach (var desk in await membership.JoinAsync(null, editor, join, cancellationToken))
            {
                Console.WriteLine($"{editor} joined desk '{desk}'");
            }

            foreach (var desk in await membership.LeaveAsync(null, editor, leave, cancellationToken))
            {
                Console.WriteLine($"{editor} left desk '{desk}'");
            }

            var desks = await membership.DesksOfAsync(editor, cancellationToken);
            var isAdmin = (await host.Services.GetRequiredService<EditorStore>().ListAsync(cancellationToken)).Any(e => e.Name == editor && e.Role == EditorRole.Admin);
            Console.WriteLine(desks.Count == 0
                ? $"{editor} is a member of no desk{(isAdmin ? " (as an admin they see every desk)" : ": they see no submissions")}"
                : $"{editor} is a member of {DeskList(desks)}{(isAdmin ? " (as an admin they see every desk)" : "")}");
        }

        return 0;
    }

    private static string DeskList(IReadOnlyCollection<string> desks) =>
        (desks.Count == 1 ? "desk " : "desks ") + string.Join(", ", desks.Select(d => $"'{d}'"));

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
