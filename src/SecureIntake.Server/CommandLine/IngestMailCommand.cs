using System.CommandLine;
using Microsoft.Extensions.Options;
using Npgsql;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Status;
using SecureIntake.Mail;
using SecureIntake.Mail.Ingest;
using SecureIntake.Server.Hosting;

namespace SecureIntake.Server.CommandLine;

/// <summary>
/// `secureintake ingest-mail`: one message on standard input (a Postfix pipe, a procmail or sieve rule) into
/// a mail submission. The exit code is what an MTA understands: 0 only once the submission is committed,
/// 65 (EX_DATAERR, a permanent failure) only for input that is not a message at all, and 75 (EX_TEMPFAIL:
/// the MTA keeps the message and tries again) for everything else. A permanent failure makes the MTA bounce,
/// and a bounce carries the plaintext back to a sender anyone can forge, so nothing the message did not cause
/// itself may end in one. Nothing is half-stored either way.
/// </summary>
internal static class IngestMailCommand
{
    public const int Committed = 0;
    public const int NotAMessage = 65;
    public const int TryAgainLater = 75;

    /// <summary>How the pipe appears on the desk's status, next to the IMAP gateway's.</summary>
    public const string Component = "mail-pipe";

    public static Command Build()
    {
        var desk = new Option<string?>("--desk") { Description = "The desk the message goes to (default: Mail:Desk, itself \"default\")" };
        var command = new Command("ingest-mail", """
            Take one email (the raw message, headers included) from standard input, encrypt it to the desk's recipients
            and queue it for triage. Exits 0 once it is committed, 65 when the input is not a message at all (empty),
            and 75 for anything else (the MTA keeps the message and tries again later). A message over Mail:MaxMessageBytes
            is stored all the same and shown on the desk as over the size limit.
            """) { desk };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, cancellationToken) => RunAsync(parse, parse.GetValue(desk), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, string? desk, CancellationToken cancellationToken)
    {
        IHost host;
        IngestResult result;
        try
        {
            (host, _) = await AdminHost.StartAsync(parse, cancellationToken);
        }
        catch (Exception e)
        {
            return CommandErrors.Fail(TryAgainLater, $"cannot take the message now ({Reason(e)}); try again later");
        }

        using (host)
        {
            try
            {
                var options = host.Services.GetRequiredService<IOptions<MailOptions>>().Value;
                await using var input = Console.OpenStandardInput();
                result = await host.Services.GetRequiredService<MessageIntake>()
                    .IngestAsync(input, desk ?? options.Desk, options.MaxMessageBytes, isTakenIn: null, origin: null, cancellationToken);
            }
            catch (MessageRefusedException e)
            {
                return CommandErrors.Fail(NotAMessage, $"message refused: {e.Message}");
            }
            catch (Exception e)
            {
                return CommandErrors.Fail(TryAgainLater, $"cannot take the message now ({Reason(e)}); try again later");
            }

            // Committed: from here on nothing may turn the exit code into a retry, or the MTA would deliver it twice.
            try
            {
                Console.WriteLine($"queued as submission {result.SubmissionId}");
                if (result.OverSizeLimit)
                {
                    await host.Services.GetRequiredService<ServiceStatus>().QuarantinedAsync(Component, cancellationToken);
                }

                await host.Services.GetRequiredService<AcknowledgementGuard>().SendAsync(result, cancellationToken);
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"secureintake: the message is stored, but {Reason(e)} after it");
            }

            return Committed;
        }
    }

    /// <summary>
    /// What went wrong, for the MTA's log: our own messages name settings, desks and limits, never a message's
    /// content or sender; anything else is named by its kind only, since its text could quote either.
    /// </summary>
    private static string Reason(Exception e) => e switch
    {
        OptionsValidationException validation => string.Join("; ", validation.Failures),
        UnknownDeskException or IntakeRefusedException or SettingsException or StartupRefusedException => e.Message,
        PostgresException postgres => $"the database refused: {postgres.SqlState}",
        NpgsqlException => "the database is unavailable",
        OperationCanceledException => "stopped before the message was committed",
        IOException => $"storage failed ({e.GetType().Name})",
        _ => e.GetType().Name,
    };
}
