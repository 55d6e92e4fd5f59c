using System.CommandLine;
using Npgsql;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Mail;
using SecureIntake.Mail.Ingest;

namespace SecureIntake.Server.CommandLine;

/// <summary>
/// `secureintake ingest-mail`: one message on standard input (a Postfix pipe, a procmail or sieve rule) into
/// a mail submission. The exit code is what an MTA understands: 0 only once the submission is committed,
/// 75 (EX_TEMPFAIL: try again later) when the database or storage cannot take it now, 65 (EX_DATAERR) for
/// input that will never be taken. Nothing is half-stored either way.
/// </summary>
internal static class IngestMailCommand
{
    public const int Committed = 0;
    public const int RefusedInput = 65;
    public const int TryAgainLater = 75;

    public static Command Build()
    {
        var desk = new Option<string?>("--desk") { Description = "The desk the message goes to (default: Mail:Desk, itself \"default\")" };
        var command = new Command("ingest-mail", """
            Take one email (the raw message, headers included) from standard input, encrypt it to the desk's recipients
            and queue it for triage. Exits 0 once it is committed, 75 when it should be retried later, 65 when it is refused.
            """) { desk };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, cancellationToken) => RunAsync(parse, parse.GetValue(desk), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, string? desk, CancellationToken cancellationToken)
    {
        try
        {
            var (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
            using (host)
            {
                var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MailOptions>>().Value;
                await using var input = Console.OpenStandardInput();
                var result = await host.Services.GetRequiredService<MessageIntake>()
                    .IngestAsync(input, desk ?? options.Desk, options.MaxMessageBytes, isTakenIn: null, origin: null, cancellationToken);
                Console.WriteLine($"queued as submission {result.SubmissionId}");
                await host.Services.GetRequiredService<SecureIntake.Mail.Notify.Acknowledgements>().SendAsync(result.Sender, cancellationToken);
                return Committed;
            }
        }
        catch (MessageRefusedException e)
        {
            return CommandErrors.Fail(RefusedInput, $"message refused: {e.Message}");
        }
        catch (UnknownDeskException e)
        {
            return CommandErrors.Fail(RefusedInput, e.Message);
        }
        catch (Exception e) when (e is NpgsqlException or IOException or IntakeRefusedException or TimeoutException or InvalidOperationException
            or Microsoft.Extensions.Options.OptionsValidationException or SettingsException)
        {
            // The database, the disk or the desk's keys: an admin can fix these, and the MTA keeps the message meanwhile.
            return CommandErrors.Fail(TryAgainLater, $"cannot take the message now ({e.GetType().Name}: {e.Message}); try again later");
        }
    }
}
