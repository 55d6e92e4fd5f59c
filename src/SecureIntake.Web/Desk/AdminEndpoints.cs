using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Pages;

namespace SecureIntake.Web.Desk;

/// <summary>
/// The admins' pages: the audit log, editors, desks and recipient keys, doing what the command line does. Every change
/// is audited. No secret is shown after the answer that made it: a new second factor is on that one page only, and a
/// password an admin sets is never shown at all.
/// </summary>
internal static class AdminEndpoints
{
    public static void MapAdmin(this RouteGroupBuilder reads, RouteGroupBuilder posts)
    {
        reads.MapGet("/audit", AuditAsync);
        reads.MapGet("/admin", AdminAsync);

        posts.MapPost("/admin/editors/add", AddEditorAsync);
        posts.MapPost("/admin/editors/disable", DisableEditorAsync);
        posts.MapPost("/admin/editors/reset-2fa", ResetTwoFactorAsync);
        posts.MapPost("/admin/editors/set-password", SetPasswordAsync);
        posts.MapPost("/admin/editors/desks", ChangeDesksAsync);
        posts.MapPost("/admin/desks/add", AddDeskAsync);
        posts.MapPost("/admin/desks/retention", SetRetentionAsync);
        posts.MapPost("/admin/keys/add", AddKeysAsync);
        posts.MapPost("/admin/keys/remove", RemoveKeyAsync);
    }

    private static async Task<HtmlPage> AuditAsync(int? page, DeskUser user, AuditLog audit, DeskPages pages, CancellationToken cancellationToken) =>
        pages.Audit(user.Editor, user.FormToken, await audit.ListAsync(page ?? 1, cancellationToken), Math.Max(page ?? 1, 1));

    private static Task<HtmlPage> AdminAsync(string? done, DeskUser user, AdminPage admin, CancellationToken cancellationToken) =>
        admin.RenderAsync(user, QueueQuery.Blank(done), null, cancellationToken);

    /// <summary>As `editors add`: the editor joins the desks ticked (the default desk when none is), all checked before the account is made.</summary>
    private static async Task<Results<RedirectHttpResult, HtmlPage>> AddEditorAsync(DeskForm form, DeskUser user, EditorStore editors,
        DeskMembership membership, AdminPage admin, CancellationToken cancellationToken)
    {
        try
        {
            var desks = form.All("desk").Count > 0 ? form.All("desk") : [RecipientStore.DefaultDesk];
            await membership.CheckDesksExistAsync(desks, cancellationToken);
            var role = form["admin"] == "yes" ? EditorRole.Admin : EditorRole.Editor;
            var enrolment = await editors.AddAsync(form["name"] ?? "", role, form["password"] ?? "", cancellationToken);
            await membership.JoinAsync(user.Editor, enrolment.Editor.Name, desks, cancellationToken);
            return await admin.ShowEnrolmentAsync(user, new DeskMessage("Admin_DoneEditorAdded", enrolment.Editor.Name, string.Join(", ", desks)), enrolment,
                cancellationToken);
        }
        catch (Exception e) when (DeskMessage.Refusal(e) is { } refusal)
        {
            return admin.Refused(user, refusal);
        }
    }

    /// <summary>
    /// As `editors desks NAME --join D --leave D`; each change is audited by the membership itself. The admin page posts
    /// every desk it listed (<c>listed</c>) and ticks the editor's (<c>member</c>): the ones ticked are joined, the others left.
    /// </summary>
    private static Task<Results<RedirectHttpResult, HtmlPage>> ChangeDesksAsync(DeskForm form, DeskUser user, DeskMembership membership, AdminPage admin,
        CancellationToken cancellationToken) =>
        admin.ChangeAsync(user, async () =>
        {
            var name = form["name"] ?? "";
            var join = form.All("listed").Count > 0 ? form.All("member") : form.All("join");
            IReadOnlyList<string> leave = form.All("listed").Count > 0 ? [.. form.All("listed").Except(join, StringComparer.Ordinal)] : form.All("leave");
            if (join.Intersect(leave, StringComparer.Ordinal).FirstOrDefault() is { } both)
            {
                throw new EditorRefusedException(EditorRefusal.JoinAndLeave, both);
            }

            await membership.CheckDesksExistAsync([.. join, .. leave], cancellationToken);
            var joined = await membership.JoinAsync(user.Editor, name, join, cancellationToken);
            var left = await membership.LeaveAsync(user.Editor, name, leave, cancellationToken);
            return [new DeskMessage("Admin_DoneDesks", EditorStore.NormalizeName(name), Desks(joined), Desks(left))];
        }, cancellationToken);

    private static Task<Results<RedirectHttpResult, HtmlPage>> DisableEditorAsync(DeskForm form, DeskUser user, EditorStore editors, AdminPage admin,
        CancellationToken cancellationToken) =>
        admin.ChangeAsync(user, async () =>
        {
            var name = form["name"] ?? "";
            if (form["op"] == "enable")
            {
                await editors.EnableAsync(name, cancellationToken);
                return [new DeskMessage("Admin_DoneEnabled", name)];
            }

            await editors.DisableAsync(name, cancellationToken);
            return [new DeskMessage("Admin_DoneDisabled", name)];
        }, cancellationToken);

    private static async Task<Results<RedirectHttpResult, HtmlPage>> ResetTwoFactorAsync(DeskForm form, DeskUser user, EditorStore editors, AdminPage admin,
        CancellationToken cancellationToken)
    {
        try
        {
            var enrolment = await editors.ResetTwoFactorAsync(form["name"] ?? "", cancellationToken);
            return await admin.ShowEnrolmentAsync(user, new DeskMessage("Admin_DoneTwoFactorReset", enrolment.Editor.Name), enrolment, cancellationToken);
        }
        catch (Exception e) when (DeskMessage.Refusal(e) is { } refusal)
        {
            return admin.Refused(user, refusal);
        }
    }

    /// <summary>
    /// As `editors set-password NAME`, for an editor who lost theirs: typed twice, held to the password rules, never shown
    /// back. Their sessions end, and at their next sign-in they must choose their own, since the admin knows this one.
    /// </summary>
    private static Task<Results<RedirectHttpResult, HtmlPage>> SetPasswordAsync(DeskForm form, DeskUser user, EditorStore editors, AdminPage admin,
        CancellationToken cancellationToken) =>
        admin.ChangeAsync(user, async () =>
        {
            var name = EditorStore.NormalizeName(form["name"] ?? "");
            if (!string.Equals(form["password"], form["repeat"], StringComparison.Ordinal))
            {
                throw new EditorRefusedException(EditorRefusal.PasswordsDiffer);
            }

            await editors.SetPasswordByAdminAsync(name, form["password"] ?? "", cancellationToken);
            return [new DeskMessage("Admin_DonePasswordSet", name)];
        }, cancellationToken);

    /// <summary>A desk is created with its first key, by the same rules as `desks add`.</summary>
    private static Task<Results<RedirectHttpResult, HtmlPage>> AddDeskAsync(DeskForm form, DeskUser user, DeskRecipients keys, AdminPage admin,
        CancellationToken cancellationToken) =>
        admin.ChangeAsync(user, async () =>
            Outcome(await keys.CreateDeskAsync((form["desk"] ?? "").Trim(), Days(form), Encoding.UTF8.GetBytes(form["key"] ?? ""), cancellationToken)),
            cancellationToken);

    private static Task<Results<RedirectHttpResult, HtmlPage>> SetRetentionAsync(DeskForm form, DeskUser user, RecipientStore recipients, AdminPage admin,
        CancellationToken cancellationToken) =>
        admin.ChangeAsync(user, async () =>
        {
            await recipients.SetRetentionAsync(form["desk"] ?? "", Days(form), cancellationToken);
            return [new DeskMessage("Admin_DoneRetention", form["desk"] ?? "", Days(form))];
        }, cancellationToken);

    /// <summary>By the same rules as `keys add`: every new key usable or none is added; a revocation of a held key is merged.</summary>
    private static Task<Results<RedirectHttpResult, HtmlPage>> AddKeysAsync(DeskForm form, DeskUser user, DeskRecipients keys, AdminPage admin,
        CancellationToken cancellationToken) =>
        admin.ChangeAsync(user, async () =>
            Outcome(await keys.AddKeysAsync(form["desk"] ?? RecipientStore.DefaultDesk, Encoding.UTF8.GetBytes(form["key"] ?? ""), cancellationToken)),
            cancellationToken);

    /// <summary>By the same rules as `keys remove`: a desk's last usable key stays until its successor is there.</summary>
    private static Task<Results<RedirectHttpResult, HtmlPage>> RemoveKeyAsync(DeskForm form, DeskUser user, DeskRecipients keys, AdminPage admin,
        CancellationToken cancellationToken) =>
        admin.ChangeAsync(user, async () =>
            Outcome(await keys.RemoveKeyAsync(form["fingerprint"] ?? "", QueueQuery.Blank(form["desk"]), cancellationToken)), cancellationToken);

    /// <summary>What a key change did, for the admin page and the audit log; a refusal by the rules changes nothing and is shown as such.</summary>
    private static IReadOnlyList<DeskMessage> Outcome(KeyChangeResult result)
    {
        if (result.Refused is { } refused)
        {
            throw new KeyChangeRefusedException(refused);
        }

        IReadOnlyList<DeskMessage> done = result.Changes.Count == 0 ? [new DeskMessage("Admin_NoSuchKey")] : result.Changes.Select(DeskMessage.Change).ToList();
        return [.. done, .. result.BlockedDesks.Select(desk => new DeskMessage("Admin_DeskBlocked", desk))];
    }

    private static object Desks(IReadOnlyList<string> desks) => desks.Count == 0 ? new DeskMessage("Admin_NoDesk") : string.Join(", ", desks);

    private static int Days(DeskForm form) => int.TryParse(form["days"], out var days) ? days : 0;
}
