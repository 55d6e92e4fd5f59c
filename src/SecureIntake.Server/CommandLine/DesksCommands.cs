using System.CommandLine;
using SecureIntake.Core.Recipients;

namespace SecureIntake.Server.CommandLine;

/// <summary>`secureintake desks add|list|retention`: desks route submissions to their own recipients and keep them for their own time.</summary>
internal static class DesksCommands
{
    public static Command Build()
    {
        var name = new Argument<string>("NAME") { Description = "The desk's name (lower-case letters, digits, '-')" };
        var key = new Option<FileInfo>("--key") { Description = "The desk's first recipient key (a desk cannot exist without one)", Required = true };
        var retention = new Option<int>("--retention-days") { Description = "Days a submission is kept after the witness's last message", DefaultValueFactory = _ => 90 };
        var days = new Argument<int>("DAYS") { Description = "Days a submission is kept after the witness's last message (1-3650)" };

        var add = new Command("add", "Create a desk with its first recipient key; witnesses then choose it on the form") { name, key, retention };
        add.TreatUnmatchedTokensAsErrors = false;
        add.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(async () =>
        {
            var keyData = await KeysCommands.ReadKeyFileAsync(parse.GetValue(key)!, cancellationToken);
            var (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
            using (host)
            {
                var result = await host.Services.GetRequiredService<DeskRecipients>().CreateDeskAsync(parse.GetValue(name)!, parse.GetValue(retention), keyData, cancellationToken);
                if (result.IsRefused)
                {
                    KeyReport.Write(Console.Out, result.Read, DateTimeOffset.UtcNow);
                    return CommandErrors.Fail(CommandErrors.Refused, result.Refusal!);
                }

                Console.WriteLine($"created desk '{result.Changes[0].Desk}' with recipient {result.Changes[0].Fingerprint}");
            }

            return 0;
        }));

        var list = new Command("list", "List the desks and how long each keeps submissions");
        list.TreatUnmatchedTokensAsErrors = false;
        list.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(async () =>
        {
            var (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
            using (host)
            {
                foreach (var (desk, keep) in await host.Services.GetRequiredService<RecipientStore>().DesksAsync(cancellationToken))
                {
                    Console.WriteLine($"{desk,-24} keeps submissions {keep} days after the witness's last message");
                }
            }

            return 0;
        }));

        var setRetention = new Command("retention", "Set how long a desk keeps submissions (those on hold are kept regardless)") { name, days };
        setRetention.TreatUnmatchedTokensAsErrors = false;
        setRetention.SetAction((parse, cancellationToken) => CommandErrors.RunAsync(async () =>
        {
            var (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
            using (host)
            {
                await host.Services.GetRequiredService<RecipientStore>().SetRetentionAsync(parse.GetValue(name)!, parse.GetValue(days), cancellationToken);
                Console.WriteLine($"desk '{parse.GetValue(name)}' now keeps submissions {parse.GetValue(days)} days");
            }

            return 0;
        }));

        return new Command("desks", "Manage desks: each has its own recipients and retention") { add, list, setRetention };
    }
}
