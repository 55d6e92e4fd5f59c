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
            return await admin.ShowEnrolmentAsync(user, $"Editor {enrolment.Editor.Name} added to {string.Join(", ", desks)}.", enrolment, cancellationToken);
        }
        catch (Exception e) when (e is EditorRefusedException or UnknownDeskException)
        {
            return admin.Refused(user, e);
        }
    }

    /// <summary>As `editors desks NAME --join D --leave D`; each change is audited by the membership itself.</summary>
    private static Task<Results<RedirectHttpResult, HtmlPage>> ChangeDesksAsync(DeskForm form, DeskUser user, DeskMembership membership, AdminPage admin,
        CancellationToken cancellationToken) =>
        admin.ChangeAsync(user, async () =>
        {
            var name = form["name"] ?? "";
            var join = form.All("join");
            var leave = form.All("leave");
            if (join.Intersect(leave).FirstOrDefault() is { } both)
            {
                throw new EditorRefusedException($"desk '{both}' cannot be joined and left at once");
            }

            await membership.CheckDesksExistAsync([.. join, .. leave], cancellationToken);
            var joined = await membership.JoinAsync(user.Editor, name, join, cancellationToken);
            var left = await membership.LeaveAsync(user.Editor, name, leave, cancellationToken);
            return $"Editor {name} joined {(joined.Count == 0 ? "no desk" : string.Join(", ", joined))} and left {(left.Count == 0 ? "no desk" : string.Join(", ", left))}.";
        }, cancellationToken);

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
            return $"Desk '{form["desk"]}' keeps submissions {Days(form)} days.";
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
    private static string Outcome(KeyChangeResult result)
    {
        if (result.IsRefused)
        {
            throw new KeyFileException(result.Refusal!);
        }

        var done = result.Changes.Count == 0 ? "No such key." : string.Join("; ", result.Changes.Select(change => change.Describe())) + ".";
        return result.BlockingProblems.Count == 0 ? done : $"{done} Warning: {string.Join("; ", result.BlockingProblems)}";
    }

    private static int Days(DeskForm form) => int.TryParse(form["days"], out var days) ? days : 0;
}
