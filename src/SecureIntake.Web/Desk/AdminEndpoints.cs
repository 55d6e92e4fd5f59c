using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Crypto.Keys;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Pages;

namespace SecureIntake.Web.Desk;

/// <summary>The admins' pages: the audit log, editors, desks and recipient keys. Every change is audited.</summary>
internal static class AdminEndpoints
{
    public static void MapAdmin(this RouteGroupBuilder reads, RouteGroupBuilder posts)
    {
        reads.MapGet("/audit", AuditAsync);
        reads.MapGet("/admin", AdminAsync);

        posts.MapPost("/admin/editors/add", AddEditorAsync);
        posts.MapPost("/admin/editors/disable", DisableEditorAsync);
        posts.MapPost("/admin/editors/reset-2fa", ResetTwoFactorAsync);
        posts.MapPost("/admin/desks/add", AddDeskAsync);
        posts.MapPost("/admin/desks/retention", SetRetentionAsync);
        posts.MapPost("/admin/keys/add", AddKeysAsync);
        posts.MapPost("/admin/keys/remove", RemoveKeyAsync);
    }

    private static async Task<HtmlPage> AuditAsync(int? page, DeskUser user, AuditLog audit, DeskPages pages, CancellationToken cancellationToken) =>
        pages.Audit(user.Editor, user.FormToken, await audit.ListAsync(page ?? 1, cancellationToken), Math.Max(page ?? 1, 1));

    private static Task<HtmlPage> AdminAsync(string? done, DeskUser user, AdminPage admin, CancellationToken cancellationToken) =>
        admin.RenderAsync(user, QueueQuery.Blank(done), null, cancellationToken);

    private static async Task<Results<RedirectHttpResult, HtmlPage>> AddEditorAsync(DeskForm form, DeskUser user, EditorStore editors, AdminPage admin,
        CancellationToken cancellationToken)
    {
        try
        {
            var role = form["admin"] == "yes" ? EditorRole.Admin : EditorRole.Editor;
            var enrolment = await editors.AddAsync(form["name"] ?? "", role, form["password"] ?? "", cancellationToken);
            return await admin.ShowEnrolmentAsync(user, $"Editor {enrolment.Editor.Name} added.", enrolment, cancellationToken);
        }
        catch (EditorRefusedException e)
        {
            return admin.Refused(user, e);
        }
    }

    private static Task<Results<RedirectHttpResult, HtmlPage>> DisableEditorAsync(DeskForm form, DeskUser user, EditorStore editors, AdminPage admin,
        CancellationToken cancellationToken) =>
        admin.ChangeAsync(user, async () =>
        {
            var name = form["name"] ?? "";
            if (form["op"] == "enable")
            {
                await editors.EnableAsync(name, cancellationToken);
                return $"Editor {name} enabled.";
            }

            await editors.DisableAsync(name, cancellationToken);
            return $"Editor {name} disabled; their sessions ended.";
        }, cancellationToken);

    private static async Task<Results<RedirectHttpResult, HtmlPage>> ResetTwoFactorAsync(DeskForm form, DeskUser user, EditorStore editors, AdminPage admin,
        CancellationToken cancellationToken)
    {
        try
        {
            var enrolment = await editors.ResetTwoFactorAsync(form["name"] ?? "", cancellationToken);
            return await admin.ShowEnrolmentAsync(user, $"Second factor of {enrolment.Editor.Name} reset; their sessions ended.", enrolment, cancellationToken);
        }
        catch (EditorRefusedException e)
        {
            return admin.Refused(user, e);
        }
    }

    /// <summary>A desk is created with its first key, judged as `desks add` judges it.</summary>
    private static Task<Results<RedirectHttpResult, HtmlPage>> AddDeskAsync(DeskForm form, DeskUser user, RecipientStore recipients, TimeProvider clock,
        AdminPage admin, CancellationToken cancellationToken) =>
        admin.ChangeAsync(user, async () =>
        {
            var desk = (form["desk"] ?? "").Trim();
            var verdicts = RecipientKeyReader.Read(Encoding.UTF8.GetBytes(form["key"] ?? ""), clock.GetUtcNow());
            if (verdicts.Count != 1 || verdicts[0].Key is not { } first)
            {
                throw new KeyFileException("a new desk needs exactly one usable public key" +
                    (verdicts.FirstOrDefault(v => !v.IsUsable) is { } refused ? $": {refused.RefusalReason}" : ""));
            }

            await recipients.CreateDeskAsync(desk, Days(form), first, cancellationToken);
            return $"Desk '{desk}' created with recipient {first.Fingerprint}.";
        }, cancellationToken);

    private static Task<Results<RedirectHttpResult, HtmlPage>> SetRetentionAsync(DeskForm form, DeskUser user, RecipientStore recipients, AdminPage admin,
        CancellationToken cancellationToken) =>
        admin.ChangeAsync(user, async () =>
        {
            await recipients.SetRetentionAsync(form["desk"] ?? "", Days(form), cancellationToken);
            return $"Desk '{form["desk"]}' keeps submissions {Days(form)} days.";
        }, cancellationToken);

    /// <summary>The same judgement as `keys add`: every key in the text must be usable, or none is added.</summary>
    private static Task<Results<RedirectHttpResult, HtmlPage>> AddKeysAsync(DeskForm form, DeskUser user, RecipientStore recipients, TimeProvider clock,
        AdminPage admin, CancellationToken cancellationToken) =>
        admin.ChangeAsync(user, async () =>
        {
            var desk = form["desk"] ?? RecipientStore.DefaultDesk;
            var verdicts = RecipientKeyReader.Read(Encoding.UTF8.GetBytes(form["key"] ?? ""), clock.GetUtcNow());
            if (verdicts.FirstOrDefault(v => !v.IsUsable) is { } refused)
            {
                throw new KeyFileException($"key {refused.Fingerprint} is refused: {refused.RefusalReason}; nothing was added");
            }

            foreach (var verdict in verdicts)
            {
                await recipients.AddAsync(desk, verdict.Key!, cancellationToken);
            }

            return $"{verdicts.Count} key(s) added to desk '{desk}'.";
        }, cancellationToken);

    private static Task<Results<RedirectHttpResult, HtmlPage>> RemoveKeyAsync(DeskForm form, DeskUser user, RecipientStore recipients, AdminPage admin,
        CancellationToken cancellationToken) =>
        admin.ChangeAsync(user, async () =>
            await recipients.RemoveAsync(form["fingerprint"] ?? "", form["desk"], cancellationToken) == 0 ? "No such key." : "Key removed.", cancellationToken);

    private static int Days(DeskForm form) => int.TryParse(form["days"], out var days) ? days : 0;
}
