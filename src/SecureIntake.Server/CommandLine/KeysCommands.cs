using System.CommandLine;
using System.Text.RegularExpressions;
using SecureIntake.Core.Recipients;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Server.CommandLine;

/// <summary>`secureintake keys add|list|check|remove`: the desks' recipient keys (public keys only).</summary>
internal static partial class KeysCommands
{
    private static readonly Option<string> Desk = new("--desk")
    {
        Description = "The desk the key belongs to",
        DefaultValueFactory = _ => RecipientStore.DefaultDesk,
    };

    public static Command Build()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "An OpenPGP public key file, armored or binary, with one or more keys" };
        var fingerprint = new Argument<string>("FINGERPRINT") { Description = "The primary key's full fingerprint (40 hex digits)" };

        var check = new Command("check", "Say whether each key in FILE can be encrypted to, and which (sub)key would be used; needs no database") { file };
        check.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(() => CheckAsync(parse.GetValue(file)!, cancellationToken)));

        var add = new Command("add", "Add the keys in FILE to a desk, or update stored copies (new expiry, subkeys, revocations); nothing is added if a new key is unusable") { file, Desk };
        add.TreatUnmatchedTokensAsErrors = false;
        add.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(() => AddAsync(parse, parse.GetValue(file)!, parse.GetValue(Desk)!, cancellationToken)));

        var list = new Command("list", "List every desk's recipient keys as they stand now (expired or revoked ones show as refused)");
        list.TreatUnmatchedTokensAsErrors = false;
        list.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(() => ListAsync(parse, cancellationToken)));

        var removeDesk = new Option<string?>("--desk") { Description = "Remove it from this desk only (default: from every desk)" };
        var remove = new Command("remove", "Stop encrypting to a key; what was already encrypted to it stays readable by its owner. A desk's last usable key is not removed: add its successor first") { fingerprint, removeDesk };
        remove.TreatUnmatchedTokensAsErrors = false;
        remove.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(() =>
            RemoveAsync(parse, parse.GetValue(fingerprint)!, parse.GetValue(removeDesk), cancellationToken)));

        return new Command("keys", "Manage the recipients' OpenPGP public keys that submissions are encrypted to") { add, list, check, remove };
    }

    private static async Task<int> CheckAsync(FileInfo file, CancellationToken cancellationToken)
    {
        var verdicts = await RecipientKeyReader.ReadFileAsync(file.FullName, DateTimeOffset.UtcNow, cancellationToken);
        KeyReport.Write(Console.Out, verdicts, DateTimeOffset.UtcNow);
        return verdicts.All(v => v.IsUsable) ? 0 : CommandErrors.Refused;
    }

    private static async Task<int> AddAsync(ParseResult parse, FileInfo file, string desk, CancellationToken cancellationToken)
    {
        var keyData = await ReadKeyFileAsync(file, cancellationToken);
        var (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
        using (host)
        {
            return Report(await host.Services.GetRequiredService<DeskRecipients>().AddKeysAsync(desk, keyData, cancellationToken), showVerdicts: true);
        }
    }

    /// <summary>Prints what happened to each key, then the refusal (exit 1) or what now blocks intake (a warning: the change was made).</summary>
    internal static int Report(KeyChangeResult result, bool showVerdicts)
    {
        if (showVerdicts)
        {
            KeyReport.Write(Console.Out, result.Read, DateTimeOffset.UtcNow);
        }

        foreach (var change in result.Changes.Where(c => !result.IsRefused || c.Kind == KeyChangeKind.Refused))
        {
            Console.WriteLine(change.Describe());
        }

        if (result.Refusal is { } refusal)
        {
            return CommandErrors.Fail(CommandErrors.Refused, refusal);
        }

        foreach (var problem in result.BlockingProblems)
        {
            Console.Error.WriteLine($"warning: {problem}; intake cannot start until then");
        }

        return 0;
    }

    /// <summary>The key file's bytes, refused before the database is touched when it is missing or too large.</summary>
    internal static async Task<byte[]> ReadKeyFileAsync(FileInfo file, CancellationToken cancellationToken)
    {
        // Reading judges it too, so a file that is not key data fails here with the reader's own message.
        _ = await RecipientKeyReader.ReadFileAsync(file.FullName, DateTimeOffset.UtcNow, cancellationToken);
        return await File.ReadAllBytesAsync(file.FullName, cancellationToken);
    }

    private static async Task<int> ListAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
        using (host)
        {
            var recipients = await host.Services.GetRequiredService<RecipientStore>().ListAsync(cancellationToken);
            if (recipients.Count == 0)
            {
                Console.WriteLine("no recipient keys yet; add one with `secureintake keys add FILE`");
                return 0;
            }

            foreach (var group in recipients.GroupBy(r => r.Desk))
            {
                Console.WriteLine($"desk '{group.Key}':");
                KeyReport.Write(Console.Out, group.Select(r => r.Verdict).ToList(), DateTimeOffset.UtcNow, indent: "  ");
            }
        }

        return 0;
    }

    private static async Task<int> RemoveAsync(ParseResult parse, string fingerprint, string? desk, CancellationToken cancellationToken)
    {
        if (!FingerprintPattern().IsMatch(fingerprint))
        {
            return CommandErrors.Fail(CommandErrors.BadSettings, $"'{fingerprint}' is not a full fingerprint (40 hexadecimal digits, as `keys list` shows)");
        }

        var (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
        using (host)
        {
            return Report(await host.Services.GetRequiredService<DeskRecipients>().RemoveKeyAsync(fingerprint, desk, cancellationToken), showVerdicts: false);
        }
    }

    [GeneratedRegex("^[0-9A-Fa-f]{40}$")]
    private static partial Regex FingerprintPattern();
}
