using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Status;
using SecureIntake.Core.Triage;

namespace SecureIntake.Web.Desk;

/// <summary>What the queue shows above its rows: keys that need attention, failing components, retention coming due.</summary>
internal sealed class DeskWarnings(RecipientStore recipients, ServiceStatus services, RetentionSweep retention, DeskPages pages, TimeProvider clock)
{
    /// <summary>
    /// Key warnings only for the desks the editor sees, so another desk's name and keys are not shown to them; the key and
    /// retention warnings in the editor's language (a failing component's own report stays as the component wrote it).
    /// </summary>
    public async Task<IReadOnlyList<string>> ListAsync(DeskScope scope, IReadOnlyList<string> desks, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var language = pages.Language;
        var warnings = (await recipients.ListAsync(cancellationToken))
            .Where(k => desks.Contains(k.Desk))
            .Select(k => pages.KeyWarning(language, k, now) is { } warning ? pages.Text("Warning_Key", k.Fingerprint, k.Desk, warning) : null)
            .OfType<string>().ToList();
        foreach (var component in await services.ListAsync(cancellationToken))
        {
            if (component.FailuresInARow > 0)
            {
                warnings.Add($"{component.Component}: failing since {component.FailedAt:yyyy-MM-dd HH:mm} UTC ({component.Failure}); " +
                    $"{component.FailuresInARow} failure(s) in a row, next attempt after {component.RetryAfter:HH:mm} UTC. Nothing is lost meanwhile.");
            }

            if (component.Quarantined > 0)
            {
                warnings.Add($"{component.Component}: {component.Quarantined} message(s) over the size limit (last at {component.QuarantinedAt:yyyy-MM-dd HH:mm} UTC). " +
                    "The mail gateway moves them to the mailbox's quarantine folder: fetch them from the mail server by hand. " +
                    "The MTA pipe (ingest-mail) stores them encrypted in the queue like any other email.");
            }
        }

        if (await retention.DueSoonAsync(scope, cancellationToken) is > 0 and var due)
        {
            warnings.Add(pages.Text("Warning_Retention", DeskText.Number(language, due), RetentionSweep.WarningPeriod.TotalDays));
        }

        return warnings;
    }
}
