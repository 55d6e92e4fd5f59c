using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Replies;
using SecureIntake.Core.Status;
using SecureIntake.Core.Triage;
using SecureIntake.Crypto.Keys;
using SecureIntake.Web.Witness;

namespace SecureIntake.Web.Desk;

/// <summary>
/// The editors' routes under /desk: sign-in, the queue, a submission's page and its actions, downloads, the
/// audit log and admin. Every route but sign-in needs a desk session; admin routes need the admin role;
/// every post carries the session's form token.
/// </summary>
public static class DeskEndpoints
{
    public static IEndpointRouteBuilder MapDesk(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/desk/sign-in", (HttpContext context, FormTokens tokens, DeskPages pages) => pages.SignIn(tokens.Issue(context), null));
        endpoints.MapPost("/desk/sign-in", SignInAsync);

        var desk = endpoints.MapGroup("/desk").AddEndpointFilter(new BrowserAccess(adminOnly: false));
        desk.MapGet("", QueueAsync);
        desk.MapPost("/sign-out", SignOutAsync);
        desk.MapPost("/bulk", BulkAsync);
        desk.MapGet("/submissions/{id:guid}", SubmissionAsync);
        desk.MapPost("/submissions/{id:guid}/{action:regex(^(status|assign|priority|tag|hold|note|reply|delete)$)}", ActAsync);
        desk.MapGet("/submissions/{id:guid}/items/{item:guid}.gpg", DownloadItemAsync);
        desk.MapGet("/submissions/{id:guid}/archive.zip", DownloadArchiveAsync);

        var admin = endpoints.MapGroup("/desk").AddEndpointFilter(new BrowserAccess(adminOnly: true));
        admin.MapGet("/audit", AuditAsync);
        admin.MapGet("/admin", AdminAsync);
        admin.MapPost("/admin/editors/{operation:regex(^(add|disable|reset-2fa)$)}", (string operation, HttpContext context, EditorStore editors,
            RecipientStore recipients, AuditLog audit, DeskPages pages, TimeProvider clock) => AdministerAsync($"editors/{operation}", context, editors, recipients, audit, pages, clock));
        admin.MapPost("/admin/desks/{operation:regex(^(add|retention)$)}", (string operation, HttpContext context, EditorStore editors,
            RecipientStore recipients, AuditLog audit, DeskPages pages, TimeProvider clock) => AdministerAsync($"desks/{operation}", context, editors, recipients, audit, pages, clock));
        admin.MapPost("/admin/keys/{operation:regex(^(add|remove)$)}", (string operation, HttpContext context, EditorStore editors,
            RecipientStore recipients, AuditLog audit, DeskPages pages, TimeProvider clock) => AdministerAsync($"keys/{operation}", context, editors, recipients, audit, pages, clock));

        endpoints.MapDeskApi();
        return endpoints;
    }

    private static async Task<IResult> SignInAsync(HttpContext context, FormTokens tokens, EditorStore editors, DeskSessions sessions, DeskPages pages)
    {
        var form = await DeskForm.ReadAsync(context.Request, context.RequestAborted);
        if (form is null || !SameOriginPost.IsAllowed(context.Request) || !tokens.IsValid(context, form["token"]))
        {
            return pages.SignIn(tokens.Issue(context), "The form expired or came from another site. Please sign in again.", StatusCodes.Status403Forbidden);
        }

        var result = await editors.SignInAsync(form["name"] ?? "", form["password"] ?? "", form["code"] ?? "", context.RequestAborted);
        switch (result)
        {
            case SignInResult.SignedIn signedIn:
                var (token, _) = await sessions.StartAsync(signedIn.Editor, DeskSessionKind.Browser, context.RequestAborted);
                DeskAccess.SetCookie(context, token);
                return TypedResults.Redirect("/desk");
            case SignInResult.LockedOut lockedOut:
                return pages.SignIn(tokens.Issue(context), $"Too many failed attempts: this account is locked until {lockedOut.Until.UtcDateTime:HH:mm} UTC.",
                    StatusCodes.Status429TooManyRequests);
            default:
                return pages.SignIn(tokens.Issue(context), "Wrong name, password or code.", StatusCodes.Status401Unauthorized);
        }
    }

    private static async Task<IResult> SignOutAsync(HttpContext context, DeskAccess access)
    {
        if (await CheckedFormAsync(context) is not null)
        {
            await access.SignOutAsync(context);
        }

        return TypedResults.Redirect("/desk/sign-in");
    }

    private static async Task<IResult> QueueAsync(HttpContext context, TriageListing queue, EditorStore editors, RecipientStore recipients, RetentionSweep retention,
        ServiceStatus services, DeskPages pages, TimeProvider clock, DeskMembership membership, string? status, string? desk, string? assignee, string? tag, string? channel, string? priority, string? witness, string? sort, int? page)
    {
        var filter = new QueueFilter(Blank(status), Blank(desk), Blank(assignee), Blank(tag)?.ToLowerInvariant(), Blank(channel), Blank(priority), witness == "1",
            sort is QueueFilter.Oldest or QueueFilter.ByPriority ? sort : QueueFilter.Newest);
        var now = clock.GetUtcNow();
        var scope = await membership.ScopeOfAsync(DeskAccess.Editor(context), context.RequestAborted);
        var deskNames = await recipients.DeskNamesAsync(scope, context.RequestAborted);
        var warnings = (await recipients.ListAsync(context.RequestAborted))
            .Where(k => deskNames.Contains(k.Desk))
            .Select(k => DeskPages.KeyWarning(k, now) is { } warning ? $"Recipient key {k.Fingerprint} of desk '{k.Desk}': {warning}" : null)
            .OfType<string>().ToList();
        foreach (var component in await services.ListAsync(context.RequestAborted))
        {
            if (component.FailuresInARow > 0)
            {
                warnings.Add($"{component.Component}: failing since {component.FailedAt:yyyy-MM-dd HH:mm} UTC ({component.Failure}); " +
                    $"{component.FailuresInARow} failure(s) in a row, next attempt after {component.RetryAfter:HH:mm} UTC. Nothing is lost meanwhile.");
            }

            if (component.Quarantined > 0)
            {
                warnings.Add($"{component.Component}: {component.Quarantined} message(s) over the size limit were moved to the mailbox's quarantine folder " +
                    $"(last at {component.QuarantinedAt:yyyy-MM-dd HH:mm} UTC); fetch them from the mail server by hand.");
            }
        }

        if (await retention.DueSoonAsync(scope, context.RequestAborted) is > 0 and var due)
        {
            warnings.Add($"{due} submission(s) reach their desk's retention within {RetentionSweep.WarningPeriod.TotalDays} days and will be deleted unless put on hold.");
        }

        return pages.Queue(DeskAccess.Editor(context), DeskAccess.FormToken(context), await queue.ListAsync(scope, filter, page ?? 1, context.RequestAborted), filter,
            await editors.ListAsync(context.RequestAborted), deskNames, warnings);
    }

    private static async Task<IResult> SubmissionAsync(Guid id, HttpContext context, TriageActions actions, TriageListing queue, EditorStore editors, DeskPages pages,
        DeskMembership membership, string? done)
    {
        var editor = DeskAccess.Editor(context);
        var scope = await membership.ScopeOfAsync(editor, context.RequestAborted);
        if (await actions.DetailsAsync(scope, id, queue, context.RequestAborted) is not { } details)
        {
            return NotFound(context, pages);
        }

        await actions.MarkSeenAsync(editor, scope, id, context.RequestAborted);
        return pages.Submission(editor, DeskAccess.FormToken(context), details, await editors.ListAsync(context.RequestAborted), Blank(done));
    }

    private static async Task<IResult> ActAsync(Guid id, string action, HttpContext context, TriageActions actions, ThreadReplies replies, DeskPages pages,
        DeskMembership membership)
    {
        var editor = DeskAccess.Editor(context);
        if (await CheckedFormAsync(context) is not { } form)
        {
            return FormRefused(context, pages);
        }

        var scope = await membership.ScopeOfAsync(editor, context.RequestAborted);
        try
        {
            var value = form["value"] ?? "";
            string done;
            switch (action)
            {
                case "status":
                    await actions.SetStatusAsync(editor, scope, [id], value, context.RequestAborted);
                    done = $"Status set to {value}.";
                    break;
                case "assign":
                    await actions.AssignAsync(editor, scope, [id], value, context.RequestAborted);
                    done = value.Length == 0 ? "Unassigned." : $"Assigned to {value}.";
                    break;
                case "priority":
                    await actions.SetPriorityAsync(editor, scope, [id], value, context.RequestAborted);
                    done = $"Priority set to {value}.";
                    break;
                case "tag" when form["op"] == "remove":
                    await actions.RemoveTagAsync(editor, scope, [id], value, context.RequestAborted);
                    done = "Tag removed.";
                    break;
                case "tag":
                    await actions.AddTagAsync(editor, scope, [id], value, context.RequestAborted);
                    done = "Tag added.";
                    break;
                case "hold":
                    await actions.SetHoldAsync(editor, scope, id, value == "on", context.RequestAborted);
                    done = value == "on" ? "Put on hold." : "Hold lifted.";
                    break;
                case "note":
                    await actions.AddNoteAsync(editor, scope, id, form["text"] ?? "", context.RequestAborted);
                    done = "Note added (encrypted to the desk).";
                    break;
                case "reply":
                    var number = await replies.AddAsync(scope, id, form["text"] ?? "", context.RequestAborted);
                    await actions.RecordReplyAsync(editor, scope, id, number, context.RequestAborted);
                    done = $"Reply #{number} sent: the witness sees it when they come back with their codename.";
                    break;
                default:
                    if (form["confirm"] != "yes")
                    {
                        return pages.Problem(editor, DeskAccess.FormToken(context), StatusCodes.Status400BadRequest, "Not deleted", "Tick the box to confirm the deletion.");
                    }

                    await actions.DeleteAsync(editor, scope, id, "deleted by an editor", context.RequestAborted);
                    return TypedResults.Redirect("/desk");
            }

            return TypedResults.Redirect($"/desk/submissions/{id}?done={Uri.EscapeDataString(done)}");
        }
        catch (SubmissionNotFoundException)
        {
            return NotFound(context, pages);
        }
        catch (Exception e) when (e is TriageRefusedException or ReplyRefusedException or IntakeRefusedException or UnknownDeskException)
        {
            return pages.Problem(editor, DeskAccess.FormToken(context), StatusCodes.Status400BadRequest, "Not done", e.Message);
        }
    }

    private static async Task<IResult> BulkAsync(HttpContext context, TriageActions actions, DeskPages pages)
    {
        var editor = DeskAccess.Editor(context);
        if (await CheckedFormAsync(context) is not { } form)
        {
            return FormRefused(context, pages);
        }

        var ids = form.All("id").Select(v => Guid.TryParse(v, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty).ToList();
        var value = form["value"] ?? "";
        var scope = await context.RequestServices.GetRequiredService<DeskMembership>().ScopeOfAsync(editor, context.RequestAborted);
        try
        {
            var change = form["action"] switch
            {
                "status" => actions.SetStatusAsync(editor, scope, ids, value, context.RequestAborted),
                "assign" => actions.AssignAsync(editor, scope, ids, value, context.RequestAborted),
                "priority" => actions.SetPriorityAsync(editor, scope, ids, value, context.RequestAborted),
                "tag" => actions.AddTagAsync(editor, scope, ids, value, context.RequestAborted),
                "untag" => actions.RemoveTagAsync(editor, scope, ids, value, context.RequestAborted),
                _ => throw new TriageRefusedException("unknown bulk action"),
            };
            await change;
        }
        catch (SubmissionNotFoundException)
        {
            // The whole selection is refused when any of it is gone or outside the editor's desks.
            return NotFound(context, pages);
        }
        catch (TriageRefusedException e)
        {
            return pages.Problem(editor, DeskAccess.FormToken(context), StatusCodes.Status400BadRequest, "Not done", e.Message);
        }

        return TypedResults.Redirect("/desk");
    }

    private static async Task<IResult> DownloadItemAsync(Guid id, Guid item, HttpContext context, TriageActions actions, TriageListing queue, BlobStore blobs,
        AuditLog audit, DeskPages pages, DeskMembership membership)
    {
        var editor = DeskAccess.Editor(context);
        var details = await actions.DetailsAsync(await membership.ScopeOfAsync(editor, context.RequestAborted), id, queue, context.RequestAborted);
        if (details?.Items.Any(i => i.Id == item) != true)
        {
            return pages.Problem(editor, DeskAccess.FormToken(context), StatusCodes.Status404NotFound, "Not found", "There is no such item.");
        }

        await audit.WriteAsync(new AuditEntry(editor.Id, editor.Name, "downloaded item", id, item.ToString()), context.RequestAborted);
        return TypedResults.Stream(blobs.OpenRead(item), "application/pgp-encrypted", SubmissionArchive.ItemFileName(item));
    }

    private static async Task<IResult> DownloadArchiveAsync(Guid id, HttpContext context, TriageActions actions, TriageListing queue, SubmissionArchive archive,
        AuditLog audit, DeskPages pages, DeskMembership membership)
    {
        var editor = DeskAccess.Editor(context);
        if (await actions.DetailsAsync(await membership.ScopeOfAsync(editor, context.RequestAborted), id, queue, context.RequestAborted) is not { } details)
        {
            return pages.Problem(editor, DeskAccess.FormToken(context), StatusCodes.Status404NotFound, "Not found", "There is no such submission.");
        }

        await audit.WriteAsync(new AuditEntry(editor.Id, editor.Name, "downloaded archive", id), context.RequestAborted);
        return ArchiveResult(details, archive, context.RequestAborted);
    }

    internal static IResult ArchiveResult(SubmissionDetails details, SubmissionArchive archive, CancellationToken cancellationToken) =>
        TypedResults.Stream(output => archive.WriteAsync(details, output, cancellationToken), "application/zip", $"submission-{details.Row.Id:D}.zip");

    private static async Task<IResult> AuditAsync(HttpContext context, AuditLog audit, DeskPages pages, int? page) =>
        pages.Audit(DeskAccess.Editor(context), DeskAccess.FormToken(context), await audit.ListAsync(page ?? 1, context.RequestAborted), Math.Max(page ?? 1, 1));

    private static async Task<IResult> AdminAsync(HttpContext context, EditorStore editors, RecipientStore recipients, DeskPages pages, TimeProvider clock,
        string? done) =>
        pages.Admin(DeskAccess.Editor(context), DeskAccess.FormToken(context), await editors.ListAsync(context.RequestAborted),
            await recipients.ListAsync(context.RequestAborted), await recipients.DesksAsync(context.RequestAborted), Blank(done), null, clock.GetUtcNow());

    private static async Task<IResult> AdministerAsync(string action, HttpContext context, EditorStore editors, RecipientStore recipients, AuditLog audit,
        DeskPages pages, TimeProvider clock)
    {
        var admin = DeskAccess.Editor(context);
        if (await CheckedFormAsync(context) is not { } form)
        {
            return FormRefused(context, pages);
        }

        var name = form["name"] ?? "";
        try
        {
            TwoFactorEnrolment? enrolment = null;
            string done;
            switch (action)
            {
                case "editors/add":
                    enrolment = await editors.AddAsync(name, form["admin"] == "yes" ? EditorRole.Admin : EditorRole.Editor, form["password"] ?? "", context.RequestAborted);
                    // As `editors add` without --desk: a new editor joins the default desk.
                    await context.RequestServices.GetRequiredService<DeskMembership>()
                        .JoinAsync(admin, enrolment.Editor.Name, [RecipientStore.DefaultDesk], context.RequestAborted);
                    done = $"Editor {enrolment.Editor.Name} added.";
                    break;
                case "editors/disable" when form["op"] == "enable":
                    await editors.EnableAsync(name, context.RequestAborted);
                    done = $"Editor {name} enabled.";
                    break;
                case "editors/disable":
                    await editors.DisableAsync(name, context.RequestAborted);
                    done = $"Editor {name} disabled; their sessions ended.";
                    break;
                case "editors/reset-2fa":
                    enrolment = await editors.ResetTwoFactorAsync(name, context.RequestAborted);
                    done = $"Second factor of {name} reset; their sessions ended.";
                    break;
                case "keys/add":
                    done = await AddKeysAsync(form["desk"] ?? RecipientStore.DefaultDesk, form["key"] ?? "", recipients, clock, context.RequestAborted);
                    break;
                case "desks/add":
                    done = await AddDeskAsync(form["desk"] ?? "", Days(form["days"]), form["key"] ?? "", recipients, clock, context.RequestAborted);
                    break;
                case "desks/retention":
                    await recipients.SetRetentionAsync(form["desk"] ?? "", Days(form["days"]), context.RequestAborted);
                    done = $"Desk '{form["desk"]}' keeps submissions {Days(form["days"])} days.";
                    break;
                default:
                    var removed = await recipients.RemoveAsync(form["fingerprint"] ?? "", form["desk"], context.RequestAborted);
                    done = removed == 0 ? "No such key." : "Key removed.";
                    break;
            }

            await audit.WriteAsync(new AuditEntry(admin.Id, admin.Name, "admin", Detail: done), context.RequestAborted);
            return enrolment is null
                ? TypedResults.Redirect($"/desk/admin?done={Uri.EscapeDataString(done)}")
                : pages.Admin(admin, DeskAccess.FormToken(context), await editors.ListAsync(context.RequestAborted), await recipients.ListAsync(context.RequestAborted),
                    await recipients.DesksAsync(context.RequestAborted), done, enrolment, clock.GetUtcNow());
        }
        catch (Exception e) when (e is EditorRefusedException or KeyFileException or UnknownDeskException)
        {
            return pages.Problem(admin, DeskAccess.FormToken(context), StatusCodes.Status400BadRequest, "Not done", e.Message);
        }
    }

    private static int Days(string? value) => int.TryParse(value, out var days) ? days : 0;

    /// <summary>A desk is created with its first key, judged as `keys add` judges it.</summary>
    private static async Task<string> AddDeskAsync(string desk, int days, string armored, RecipientStore recipients, TimeProvider clock, CancellationToken cancellationToken)
    {
        var verdicts = RecipientKeyReader.Read(Encoding.UTF8.GetBytes(armored), clock.GetUtcNow());
        if (verdicts.Count != 1 || verdicts[0].Key is not { } first)
        {
            throw new KeyFileException("a new desk needs exactly one usable public key" + (verdicts.FirstOrDefault(v => !v.IsUsable) is { } refused ? $": {refused.RefusalReason}" : ""));
        }

        await recipients.CreateDeskAsync(desk.Trim(), days, first, cancellationToken);
        return $"Desk '{desk.Trim()}' created with recipient {first.Fingerprint}.";
    }

    /// <summary>The same judgement as `keys add`: every key in the text must be usable, or none is added.</summary>
    private static async Task<string> AddKeysAsync(string desk, string armored, RecipientStore recipients, TimeProvider clock, CancellationToken cancellationToken)
    {
        var verdicts = RecipientKeyReader.Read(Encoding.UTF8.GetBytes(armored), clock.GetUtcNow());
        if (verdicts.FirstOrDefault(v => !v.IsUsable) is { } refused)
        {
            throw new KeyFileException($"key {refused.Fingerprint} is refused: {refused.RefusalReason}; nothing was added");
        }

        foreach (var verdict in verdicts)
        {
            await recipients.AddAsync(desk, verdict.Key!, cancellationToken);
        }

        return $"{verdicts.Count} key(s) added to desk '{desk}'.";
    }

    /// <summary>The post's fields once its form token matches the session's (and it came from our own pages), else null.</summary>
    private static async Task<DeskForm?> CheckedFormAsync(HttpContext context)
    {
        if (!SameOriginPost.IsAllowed(context.Request) || await DeskForm.ReadAsync(context.Request, context.RequestAborted) is not { } form)
        {
            return null;
        }

        var expected = Encoding.ASCII.GetBytes(DeskAccess.FormToken(context));
        var given = Encoding.ASCII.GetBytes(form["form"] ?? "");
        return CryptographicOperations.FixedTimeEquals(expected, given) ? form : null;
    }

    /// <summary>The same answer for a submission that does not exist and for one on another desk.</summary>
    private static ContentHttpResult NotFound(HttpContext context, DeskPages pages) =>
        pages.Problem(DeskAccess.Editor(context), DeskAccess.FormToken(context), StatusCodes.Status404NotFound, "Not found",
            "There is no such submission (it may have been deleted).");

    private static ContentHttpResult FormRefused(HttpContext context, DeskPages pages) =>
        pages.Problem(DeskAccess.Editor(context), DeskAccess.FormToken(context), StatusCodes.Status403Forbidden, "Refused",
            "The form expired or came from another site. Go back, reload the page and try again.");

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>Lets a request through only with a live browser session (and the admin role where asked); else sign-in or 403.</summary>
    private sealed class BrowserAccess(bool adminOnly) : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            var http = context.HttpContext;
            var access = http.RequestServices.GetService(typeof(DeskAccess)) as DeskAccess ?? throw new InvalidOperationException("DeskAccess is not registered");
            if (await access.BrowserEditorAsync(http) is not { } editor)
            {
                return TypedResults.Redirect("/desk/sign-in");
            }

            if (adminOnly && editor.Role != EditorRole.Admin)
            {
                var pages = (DeskPages)http.RequestServices.GetService(typeof(DeskPages))!;
                return pages.Problem(editor, DeskAccess.FormToken(http), StatusCodes.Status403Forbidden, "Admins only", "This page is for the desk's admins.");
            }

            return await next(context);
        }
    }
}
