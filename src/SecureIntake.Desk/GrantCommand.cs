using System.CommandLine;
using System.Globalization;
using SecureIntake.Contracts;
using SecureIntake.Crypto.Decryption;
using SecureIntake.Crypto.Grants;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Desk;

/// <summary>
/// `secureintake-desk grant` and `revoke`: who can read a submission's items, changed without the content ever being
/// decrypted. Your secret key opens only each item's session key, here on your machine; the server receives just the
/// new key packets (the session key encrypted to the new key), so it still cannot read anything.
/// </summary>
internal static class GrantCommand
{
    public const string RevokeWarning =
        "revoking stops future downloads only: anyone who already downloaded or decrypted the items keeps their copies, " +
        "and copies taken before still open with the revoked key";

    public static Command Build()
    {
        var submission = new Argument<Guid>("SUBMISSION") { Description = "The submission's id, as `list` shows it" };
        var to = new Option<FileInfo?>("--to") { HelpName = "KEY.asc", Description = "The public key to give access to (one key; refused with the reason when expired, revoked or for signing only)" };
        var desk = new Option<bool>("--desk") { Description = "Give access to the desk's current recipients instead (after a key rotation, for older submissions)" };
        var key = new Option<FileInfo>("--key") { HelpName = "MY-SECRET-KEY", Description = "Your secret key file: it opens only the items' session keys, never their content", Required = true };
        var session = SessionFile.CreateOption();
        var command = new Command("grant", """
            Let another key read every item of a submission, without decrypting it: the session key of each item is
            re-encrypted to the new key here, and only the new key packets are sent. Whoever holds that key can then
            decrypt the items with stock gpg or sq. A grant cannot be taken back from copies already downloaded.
            """)
        {
            submission, to, desk, key, session,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(to) is null) == !result.GetValue(desk))
            {
                result.AddError("give either --to KEY.asc or --desk");
            }
        });
        command.SetAction((parse, cancellationToken) => GrantAsync(parse.GetValue(submission), parse.GetValue(to), parse.GetValue(key)!,
            parse.GetValue(session), cancellationToken));
        return command;
    }

    public static Command BuildRevoke()
    {
        var submission = new Argument<Guid>("SUBMISSION") { Description = "The submission's id, as `list` shows it" };
        var from = new Option<FileInfo?>("--from") { HelpName = "KEY.asc", Description = "The public key whose access goes" };
        var keyId = new Option<string?>("--key-id") { HelpName = "KEYID", Description = "Or the key id (16 hex digits) whose access goes, as the desk shows it" };
        var session = SessionFile.CreateOption();
        var command = new Command("revoke", $"""
            Take a key's packet out of every item of a submission, so that later downloads no longer open with it. The last
            key that can read an item is never taken out. Warning: {RevokeWarning}.
            """)
        {
            submission, from, keyId, session,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(from) is null) == (result.GetValue(keyId) is null))
            {
                result.AddError("give either --from KEY.asc or --key-id KEYID");
            }
        });
        command.SetAction((parse, cancellationToken) => RevokeAsync(parse.GetValue(submission), parse.GetValue(from), parse.GetValue(keyId), parse.GetValue(session),
            cancellationToken));
        return command;
    }

    private static async Task<int> GrantAsync(Guid submission, FileInfo? to, FileInfo key, FileInfo? sessionOption, CancellationToken cancellationToken)
    {
        try
        {
            var now = DateTimeOffset.UtcNow;
            // Without --to, the validator has made sure --desk was given.
            var newKey = to is null ? null : GrantRecipients.Read(await ReadFileAsync(to, cancellationToken), now);
            var secretKey = await ReadFileAsync(key, cancellationToken);

            var session = await SessionFile.LoadAsync(SessionFile.PathOf(sessionOption), cancellationToken);
            using var api = DeskApiClient.ForSession(session);
            var keys = await api.KeysAsync(submission, cancellationToken);
            var recipients = newKey is not null ? [newKey] : DeskRecipients(keys, now);
            if (recipients.Count == 0)
            {
                return Failure.Report("the desk has no recipient key that can be encrypted to; nothing was changed");
            }

            // Every packet is made before anything is sent: a secret key that opens none of the items changes nothing.
            var grant = SessionKeyGrant.FromSecretKeys(secretKey, Passphrase.Read());
            var uploads = keys.Items.Select(item =>
                {
                    var packets = KeyPackets.ReadOnly(Convert.FromBase64String(item.Packets));
                    return (item.Item, Added: SessionKeyGrant.NotYetReaders(packets, recipients), Packets: grant.PacketsFor(packets, recipients));
                })
                .ToList();
            foreach (var (item, added, packets) in uploads.Where(u => u.Packets.Length > 0))
            {
                var now2 = await api.GrantAsync(submission, item, packets, cancellationToken);
                Console.WriteLine($"{TerminalText.Clean(item)}: added {string.Join(", ", added.Select(r => r.Fingerprint))}; " +
                    $"readable by {string.Join(", ", now2.KeyIds.Select(k => TerminalText.Clean(k)))}");
            }

            foreach (var line in Summary(recipients, uploads.Select(u => u.Added).ToList()))
            {
                Console.WriteLine(line);
            }

            return 0;
        }
        catch (DeskToolException e)
        {
            return Failure.Report(e.Message);
        }
        catch (Exception e) when (e is KeyFileException or DecryptionException or KeyPacketException or FormatException)
        {
            return Failure.Report($"{e.Message}; nothing was changed");
        }
    }

    private static async Task<int> RevokeAsync(Guid submission, FileInfo? from, string? keyIdText, FileInfo? sessionOption, CancellationToken cancellationToken)
    {
        try
        {
            var keyIds = from is not null
                ? CertificateKeyIds.Of(await ReadFileAsync(from, cancellationToken)).ToHashSet()
                : [ParseKeyId(keyIdText!)];
            if (keyIds.Count == 0)
            {
                return Failure.Report($"'{from!.FullName}' holds no readable public key");
            }

            Console.Error.WriteLine($"secureintake-desk: warning: {RevokeWarning}");
            var session = await SessionFile.LoadAsync(SessionFile.PathOf(sessionOption), cancellationToken);
            using var api = DeskApiClient.ForSession(session);
            var keys = await api.KeysAsync(submission, cancellationToken);
            var changed = 0;
            foreach (var item in keys.Items)
            {
                foreach (var packet in KeyPackets.ReadOnly(Convert.FromBase64String(item.Packets)).Where(p => keyIds.Contains(p.KeyId)))
                {
                    var now = await api.RevokeAsync(submission, item.Item, packet.KeyIdHex, cancellationToken);
                    Console.WriteLine($"{TerminalText.Clean(item.Item)}: readable by {string.Join(", ", now.KeyIds.Select(k => TerminalText.Clean(k)))}");
                    changed++;
                }
            }

            if (changed == 0)
            {
                return Failure.Report("that key has no packet in any item of the submission; nothing was changed");
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"revoked access to {changed} of {keys.Items.Count} items"));
            return 0;
        }
        catch (DeskToolException e)
        {
            return Failure.Report(e.Message);
        }
        catch (Exception e) when (e is KeyFileException or KeyPacketException or FormatException)
        {
            return Failure.Report(e.Message);
        }
    }

    /// <summary>
    /// Names each key with what the grant did for it: a desk grant lists keys that could already read everything
    /// beside the one that was added, and "granted A, B, C access" would claim access was given that nobody lacked.
    /// </summary>
    private static IEnumerable<string> Summary(IReadOnlyList<RecipientKey> recipients, List<IReadOnlyList<RecipientKey>> addedPerItem)
    {
        var total = addedPerItem.Count;
        var already = new List<string>();
        var anyAdded = false;
        foreach (var recipient in recipients)
        {
            var gained = addedPerItem.Count(added => added.Contains(recipient));
            if (gained == 0)
            {
                already.Add(recipient.Fingerprint);
                continue;
            }

            anyAdded = true;
            var rest = gained == total ? "" : " (it could already read the others)";
            yield return string.Create(CultureInfo.InvariantCulture, $"granted {recipient.Fingerprint} access to {gained} of {total} items{rest}");
        }

        if (already.Count > 0)
        {
            yield return $"{string.Join(", ", already)} could already read every item{(anyAdded ? "" : "; nothing was changed")}";
        }
    }

    /// <summary>The desk's recipients as the server lists them, judged again here: a key unusable by now is named and left out.</summary>
    private static List<RecipientKey> DeskRecipients(SubmissionKeys keys, DateTimeOffset now)
    {
        var usable = new List<RecipientKey>();
        foreach (var certificate in keys.DeskRecipients)
        {
            try
            {
                usable.Add(GrantRecipients.Read(Convert.FromBase64String(certificate), now));
            }
            catch (KeyFileException e)
            {
                Console.Error.WriteLine($"secureintake-desk: skipped a desk key: {TerminalText.Clean(e.Message)}");
            }
        }

        return usable;
    }

    private static long ParseKeyId(string text) =>
        text.Length == 16 && long.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new FormatException($"'{TerminalText.Clean(text)}' is not a key id (16 hex digits)");

    private static async Task<byte[]> ReadFileAsync(FileInfo file, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            throw new DeskToolException($"'{file.FullName}' does not exist");
        }

        if (file.Length > RecipientKeyReader.MaximumKeyFileBytes)
        {
            throw new DeskToolException($"'{file.FullName}' is too large to be a key file");
        }

        return await File.ReadAllBytesAsync(file.FullName, cancellationToken);
    }
}
