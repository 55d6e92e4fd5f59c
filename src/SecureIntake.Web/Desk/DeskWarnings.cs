using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Status;
using SecureIntake.Core.Triage;

namespace SecureIntake.Web.Desk;

/// <summary>What the queue shows above its rows: keys that need attention, failing components, retention coming due.</summary>
internal sealed class DeskWarnings(RecipientStore recipients, ServiceStatus services, RetentionSweep retention, DeskPages pages, TimeProvider clock)
{
    /// <summary>
    /// Key warnings only for the desks the editor sees, so another desk's name and keys are not shown to them; every warning
    /// in the editor's language (a failing component's own report, inside it, stays as the component wrote it).
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
                warnings.Add(pages.Text("Warning_ComponentFailing", component.Component, DeskText.Minute(language, component.FailedAt ?? now), component.Failure ?? "",
                    DeskText.Number(language, component.FailuresInARow), DeskText.Minute(language, component.RetryAfter ?? now)));
            }

            if (component.Quarantined > 0)
            {
                warnings.Add(pages.Text("Warning_Quarantined", component.Component, DeskText.Number(language, component.Quarantined),
                    DeskText.Minute(language, component.QuarantinedAt ?? now)));
            }
        }

        if (await retention.DueSoonAsync(scope, cancellationToken) is > 0 and var due)
        {
            warnings.Add(pages.Text("Warning_Retention", DeskText.Number(language, due), RetentionSweep.WarningPeriod.TotalDays));
        }

        return warnings;
    }
}
