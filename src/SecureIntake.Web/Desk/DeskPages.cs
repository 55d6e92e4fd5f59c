using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Triage;
using SecureIntake.Web.Desk.Access;

namespace SecureIntake.Web.Desk;

/// <summary>
/// The editors' desk: plain server-rendered HTML like the witness pages (the same strict headers, no
/// script). Content never appears here: items are listed as encrypted files to download and open locally.
/// </summary>
internal sealed class DeskPages(IOptions<WebOptions> web)
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    public ContentHttpResult SignIn(string formToken, string? error, int status = StatusCodes.Status200OK) => Page(null, null, "Sign in", status, $"""
        <h1>Sign in to the desk</h1>
        {(error is null ? "" : $"<p class=\"error\">{E(error)}</p>")}
        <form method="post" action="/desk/sign-in">
        <input type="hidden" name="token" value="{E(formToken)}">
        <label for="name">Name</label><input id="name" name="name" autocomplete="username" required>
        <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
        <label for="code">Code from your authenticator app</label><input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="7" required>
        <button type="submit">Sign in</button>
        </form>
        """);

    public ContentHttpResult Queue(Editor editor, string formToken, QueuePage page, QueueFilter filter, IReadOnlyList<Editor> editors, IReadOnlyList<string> desks,
        IReadOnlyList<string> keyWarnings)
    {
        var rows = new StringBuilder();
        foreach (var row in page.Rows)
        {
            rows.Append(CultureInfo.InvariantCulture, $"""
                <tr><td><input type="checkbox" name="id" value="{row.Id}" form="bulk" aria-label="select {row.Id}"></td>
                <td><a href="/desk/submissions/{row.Id}">{Minute(row.ReceivedAt)}</a></td><td>{E(row.Desk)}</td><td>{E(row.Channel)}</td>
                <td>{E(row.Status)}{(row.WitnessWroteSinceSeen ? " <strong class=\"new\">witness wrote</strong>" : "")}{(row.OnHold ? " (on hold)" : "")}</td>
                <td>{E(row.Assignee ?? "")}</td><td>{E(row.Priority)}</td><td>{E(string.Join(", ", row.Tags))}</td><td>{row.Files}</td><td>{E(row.SizeBucket)}</td></tr>
                """);
        }

        var query = FilterQuery(filter);
        var paging = new StringBuilder($"<p>Page {page.Page} of {page.PageCount} ({page.Total} submissions)");
        if (page.Page > 1)
        {
            paging.Append(CultureInfo.InvariantCulture, $""" <a href="/desk?{query}page={page.Page - 1}">previous</a>""");
        }

        if (page.Page < page.PageCount)
        {
            paging.Append(CultureInfo.InvariantCulture, $""" <a href="/desk?{query}page={page.Page + 1}">next</a>""");
        }

        paging.Append("</p>");
        return Page(editor, formToken, "Queue", StatusCodes.Status200OK, $"""
            <h1>Queue</h1>
            {string.Concat(keyWarnings.Select(w => $"<p class=\"error key-warning\">{E(w)}</p>"))}
            <form method="get" action="/desk" class="filters">
            {Select("status", "Status", TriageListing.Statuses, filter.Status)}
            {Select("desk", "Desk", desks, filter.Desk)}
            {Select("assignee", "Assignee", [QueueFilter.Unassigned, .. editors.Select(e => e.Name)], filter.Assignee)}
            {Select("priority", "Priority", TriageListing.Priorities, filter.Priority)}
            {Select("channel", "Channel", TriageListing.Channels, filter.Channel)}
            <label for="tag">Tag</label><input id="tag" name="tag" value="{E(filter.Tag ?? "")}">
            <label><input type="checkbox" name="witness" value="1"{(filter.WitnessWroteOnly ? " checked" : "")}> witness wrote since last seen</label>
            {Select("sort", "Sort", [QueueFilter.Newest, QueueFilter.Oldest, QueueFilter.ByPriority], filter.Sort, any: false)}
            <button type="submit">Filter</button>
            </form>
            <table>
            <thead><tr><th></th><th>Received (UTC)</th><th>Desk</th><th>Channel</th><th>Status</th><th>Assignee</th><th>Priority</th><th>Tags</th><th>Files</th><th>Size</th></tr></thead>
            <tbody>
            {rows}
            </tbody>
            </table>
            {paging}
            <form method="post" action="/desk/bulk" id="bulk" class="bulk">
            <input type="hidden" name="form" value="{E(formToken)}">
            <label for="bulk-action">With the selected</label>
            <select id="bulk-action" name="action"><option value="status">set status</option><option value="assign">assign to</option><option value="priority">set priority</option><option value="tag">add tag</option><option value="untag">remove tag</option></select>
            <label for="bulk-value">Value</label><input id="bulk-value" name="value">
            <button type="submit">Apply</button>
            </form>
            """);
    }

    public ContentHttpResult Submission(Editor editor, string formToken, SubmissionDetails details, IReadOnlyList<Editor> editors, string? message)
    {
        var row = details.Row;
        var items = new StringBuilder();
        foreach (var item in details.Items)
        {
            items.Append(CultureInfo.InvariantCulture, $"""
                <tr><td>{Minute(item.AddedAt)}</td><td>{E(item.Author)}</td><td>{E(item.Kind)}{(item.ReplyNumber is { } n ? $" #{n}" : "")}</td><td>{item.CiphertextBytes}</td>
                <td><a href="/desk/submissions/{row.Id}/items/{item.Id}.gpg" download>{E(SubmissionArchive.ItemFileName(item.Id))}</a></td></tr>
                """);
        }

        var history = new StringBuilder();
        foreach (var change in details.Events)
        {
            history.Append(CultureInfo.InvariantCulture, $"<li>{Minute(change.At)} {E(change.Editor ?? "(removed editor)")}: {E(change.Change)}</li>");
        }

        var reply = details.CanReply
            ? Form(formToken, $"/desk/submissions/{row.Id}/reply", """
                <label for="reply">Reply to the witness (encrypted to their thread key and to this desk)</label>
                <textarea id="reply" name="text" rows="6" required></textarea>
                <button type="submit">Send reply</button>
                """)
            : "<p>This submission came without a codename (by mail): the witness cannot be answered here.</p>";

        return Page(editor, formToken, $"Submission {row.Id}", StatusCodes.Status200OK, $"""
            <h1>Submission received {Minute(row.ReceivedAt)} UTC</h1>
            {(message is null ? "" : $"<p class=\"notice\">{E(message)}</p>")}
            <dl>
            <dt>Id</dt><dd>{row.Id}</dd><dt>Desk</dt><dd>{E(row.Desk)}</dd><dt>Channel</dt><dd>{E(row.Channel)}</dd>
            <dt>Status</dt><dd id="status">{E(row.Status)}</dd><dt>Assignee</dt><dd id="assignee">{E(row.Assignee ?? "nobody")}</dd>
            <dt>Priority</dt><dd>{E(row.Priority)}</dd><dt>Tags</dt><dd id="tags">{E(string.Join(", ", row.Tags))}</dd>
            <dt>Files</dt><dd>{row.Files} ({E(row.SizeBucket)})</dd><dt>On hold</dt><dd>{(row.OnHold ? "yes: kept past the desk's retention" : "no")}</dd>
            </dl>
            <div class="actions">
            {Form(formToken, $"/desk/submissions/{row.Id}/status", $"{Select("value", "Status", TriageListing.Statuses, row.Status, any: false, id: "status-value")}<button type=\"submit\">Set status</button>")}
            {Form(formToken, $"/desk/submissions/{row.Id}/assign", $"{Select("value", "Assign to", editors.Where(e => !e.Disabled).Select(e => e.Name).ToList(), row.Assignee, id: "assign-value", blank: "nobody")}<button type=\"submit\">Assign</button>")}
            {Form(formToken, $"/desk/submissions/{row.Id}/priority", $"{Select("value", "Priority", TriageListing.Priorities, row.Priority, any: false, id: "priority-value")}<button type=\"submit\">Set priority</button>")}
            {Form(formToken, $"/desk/submissions/{row.Id}/tag", "<label for=\"tag-value\">Tag</label><input id=\"tag-value\" name=\"value\" required><button type=\"submit\" name=\"op\" value=\"add\">Add tag</button><button type=\"submit\" name=\"op\" value=\"remove\">Remove tag</button>")}
            {Form(formToken, $"/desk/submissions/{row.Id}/hold", $"<input type=\"hidden\" name=\"value\" value=\"{(row.OnHold ? "off" : "on")}\"><button type=\"submit\">{(row.OnHold ? "Lift hold" : "Put on hold")}</button>")}
            </div>
            <h2>Items</h2>
            <p>Each item is an OpenPGP message: open it on your own machine with <code>secureintake-desk decrypt</code>, GnuPG or Sequoia.
            <a href="/desk/submissions/{row.Id}/archive.zip">Download everything as one archive</a> (or <code>secureintake-desk pull {row.Id}</code>).</p>
            <table><thead><tr><th>Added (UTC)</th><th>By</th><th>Kind</th><th>Bytes</th><th>Encrypted file</th></tr></thead><tbody>{items}</tbody></table>
            <h2>Reply</h2>
            {reply}
            <h2>Note for the other editors</h2>
            {Form(formToken, $"/desk/submissions/{row.Id}/note", "<label for=\"note\">Note (encrypted to this desk)</label><textarea id=\"note\" name=\"text\" rows=\"4\" required></textarea><button type=\"submit\">Add note</button>")}
            <h2>History</h2>
            <ul>{history}</ul>
            <h2>Delete</h2>
            {Form(formToken, $"/desk/submissions/{row.Id}/delete", "<label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> Delete this submission, its files and its replies for good</label><button type=\"submit\" class=\"danger\">Delete</button>")}
            """);
    }

    public ContentHttpResult Audit(Editor editor, string formToken, IReadOnlyList<LoggedEntry> entries, int page)
    {
        var rows = new StringBuilder();
        foreach (var entry in entries)
        {
            rows.Append(CultureInfo.InvariantCulture, $"<tr><td>{entry.At.UtcDateTime:yyyy-MM-dd HH:mm:ss}</td><td>{E(entry.EditorName ?? "")}</td><td>{E(entry.Action)}</td><td>{entry.SubmissionId}</td><td>{E(entry.Detail)}</td></tr>");
        }

        return Page(editor, formToken, "Audit log", StatusCodes.Status200OK, $"""
            <h1>Audit log</h1>
            <table><thead><tr><th>When (UTC)</th><th>Editor</th><th>Action</th><th>Submission</th><th>Detail</th></tr></thead><tbody>{rows}</tbody></table>
            <p>{(page > 1 ? $"<a href=\"/desk/audit?page={page - 1}\">newer</a> " : "")}{(entries.Count == AuditLog.PageSize ? $"<a href=\"/desk/audit?page={page + 1}\">older</a>" : "")}</p>
            """);
    }

    public ContentHttpResult Admin(Editor editor, string formToken, IReadOnlyList<Editor> editors, IReadOnlyList<StoredRecipient> keys,
        IReadOnlyList<(string Name, int RetentionDays)> desks, string? message, TwoFactorEnrolment? enrolment, DateTimeOffset now)
    {
        var deskRows = new StringBuilder();
        foreach (var (name, days) in desks)
        {
            deskRows.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(name)}</td><td>{Form(formToken, "/desk/admin/desks/retention", $"<input type=\"hidden\" name=\"desk\" value=\"{E(name)}\"><label>Keep for <input name=\"days\" type=\"number\" min=\"1\" max=\"3650\" value=\"{days}\" aria-label=\"retention of {E(name)} in days\"> days</label><button type=\"submit\">Set</button>")}</td></tr>");
        }

        var editorRows = new StringBuilder();
        foreach (var e in editors)
        {
            editorRows.Append(CultureInfo.InvariantCulture, $"""
                <tr><td>{E(e.Name)}</td><td>{(e.Role == EditorRole.Admin ? "admin" : "editor")}</td><td>{(e.Disabled ? "disabled" : "active")}</td>
                <td>{Form(formToken, "/desk/admin/editors/disable", $"<input type=\"hidden\" name=\"name\" value=\"{E(e.Name)}\"><button type=\"submit\">{(e.Disabled ? "Enable" : "Disable")}</button><input type=\"hidden\" name=\"op\" value=\"{(e.Disabled ? "enable" : "disable")}\">")}
                {Form(formToken, "/desk/admin/editors/reset-2fa", $"<input type=\"hidden\" name=\"name\" value=\"{E(e.Name)}\"><button type=\"submit\">Reset second factor</button>")}</td></tr>
                """);
        }

        var keyRows = new StringBuilder();
        foreach (var key in keys)
        {
            keyRows.Append(CultureInfo.InvariantCulture, $"""
                <tr><td>{E(key.Desk)}</td><td><code>{E(key.Fingerprint)}</code></td><td>{E(string.Join(", ", key.Verdict.Key?.UserIds ?? []))}</td>
                <td class="{(KeyWarning(key, now) is null ? "" : "error")}">{E(KeyWarning(key, now) ?? "usable")}</td>
                <td>{Form(formToken, "/desk/admin/keys/remove", $"<input type=\"hidden\" name=\"fingerprint\" value=\"{E(key.Fingerprint)}\"><input type=\"hidden\" name=\"desk\" value=\"{E(key.Desk)}\"><button type=\"submit\">Remove</button>")}</td></tr>
                """);
        }

        var enrolled = enrolment is null ? "" : $"""
            <div class="notice"><p>Second factor for <strong>{E(enrolment.Editor.Name)}</strong>: add it to their authenticator app now; it is not shown again.</p>
            <p>Secret: <code id="totp-secret">{E(Totp.ToBase32(enrolment.TotpSecret))}</code></p><p><code>{E(enrolment.ProvisioningUri(web.Value.NewsroomName))}</code></p></div>
            """;
        return Page(editor, formToken, "Admin", StatusCodes.Status200OK, $"""
            <h1>Admin</h1>
            {(message is null ? "" : $"<p class=\"notice\">{E(message)}</p>")}
            {enrolled}
            <h2>Editors</h2>
            <table><thead><tr><th>Name</th><th>Role</th><th>State</th><th></th></tr></thead><tbody>{editorRows}</tbody></table>
            {Form(formToken, "/desk/admin/editors/add", """
                <label for="new-name">Name</label><input id="new-name" name="name" required>
                <label for="new-password">Password (at least 12 characters, not a common one)</label><input id="new-password" name="password" type="password" autocomplete="new-password" required>
                <label><input type="checkbox" name="admin" value="yes"> admin</label>
                <button type="submit">Add editor</button>
                """)}
            <h2>Desks</h2>
            <table><thead><tr><th>Desk</th><th>Retention after the witness's last message</th></tr></thead><tbody>{deskRows}</tbody></table>
            {Form(formToken, "/desk/admin/desks/add", "<label for=\"desk-name\">New desk</label><input id=\"desk-name\" name=\"desk\" required><label for=\"desk-days\">Retention (days)</label><input id=\"desk-days\" name=\"days\" type=\"number\" min=\"1\" max=\"3650\" value=\"90\"><label for=\"desk-key\">Its first recipient key (armored)</label><textarea id=\"desk-key\" name=\"key\" rows=\"6\" required></textarea><button type=\"submit\">Add desk</button>")}
            <h2>Recipient keys</h2>
            <table><thead><tr><th>Desk</th><th>Fingerprint</th><th>User IDs</th><th>Verdict</th><th></th></tr></thead><tbody>{keyRows}</tbody></table>
            {Form(formToken, "/desk/admin/keys/add", """
                <label for="key-desk">Desk</label><input id="key-desk" name="desk" value="default" required>
                <label for="key-text">Public key (armored, as `gpg --export --armor` prints it)</label><textarea id="key-text" name="key" rows="8" required></textarea>
                <button type="submit">Add key</button>
                """)}
            """);
    }

    /// <summary>Why a desk's key needs attention (refused, or expiring within 30 days), or null when it does not.</summary>
    public static string? KeyWarning(StoredRecipient key, DateTimeOffset now) => key.Verdict.Key switch
    {
        null => $"refused: {key.Verdict.RefusalReason}",
        { } usable when Crypto.Keys.KeyExpiry.Near(usable, now) is { } expires => $"expires {expires.UtcDateTime:yyyy-MM-dd}",
        _ => null,
    };

    public ContentHttpResult Problem(DeskUser? user, int status, string title, string detail) => Problem(user?.Editor, user?.FormToken, status, title, detail);

    public ContentHttpResult Problem(Editor? editor, string? formToken, int status, string title, string detail) =>
        Page(editor, formToken, title, status, $"<h1>{E(title)}</h1><p class=\"error\">{E(detail)}</p><p><a href=\"/desk\">Back to the queue</a></p>");

    private static string Form(string formToken, string action, string fields) =>
        $"<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"form\" value=\"{E(formToken)}\">{fields}</form>";

    /// <param name="blank">What the empty choice means here: "any" in a filter; in the assign form it unassigns, so it says "nobody".</param>
    private static string Select(string name, string label, IReadOnlyList<string> options, string? selected, bool any = true, string? id = null, string blank = "any")
    {
        id ??= name;
        var html = new StringBuilder().Append(CultureInfo.InvariantCulture, $"<label for=\"{id}\">{E(label)}</label><select id=\"{id}\" name=\"{name}\">");
        if (any)
        {
            html.Append(CultureInfo.InvariantCulture, $"<option value=\"\">{E(blank)}</option>");
        }

        foreach (var option in options)
        {
            var shown = option == QueueFilter.Unassigned ? "nobody" : option;
            html.Append(CultureInfo.InvariantCulture, $"<option value=\"{E(option)}\"{(option == selected ? " selected" : "")}>{E(shown)}</option>");
        }

        return html.Append("</select>").ToString();
    }

    private static string FilterQuery(QueueFilter filter)
    {
        var query = new StringBuilder();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                query.Append(key).Append('=').Append(Uri.EscapeDataString(value)).Append('&');
            }
        }

        Add("status", filter.Status);
        Add("desk", filter.Desk);
        Add("assignee", filter.Assignee);
        Add("tag", filter.Tag);
        Add("channel", filter.Channel);
        Add("priority", filter.Priority);
        Add("witness", filter.WitnessWroteOnly ? "1" : null);
        Add("sort", filter.Sort);
        return E(query.ToString());
    }

    private ContentHttpResult Page(Editor? editor, string? formToken, string title, int status, string main)
    {
        var nav = editor is null || formToken is null ? "" : $"""
            <nav><a href="/desk">Queue</a>{(editor.Role == EditorRole.Admin ? " <a href=\"/desk/audit\">Audit log</a> <a href=\"/desk/admin\">Admin</a> <a href=\"/desk/hangfire\">Jobs</a>" : "")}
            <span>{E(editor.Name)}</span>{Form(formToken, "/desk/sign-out", "<button type=\"submit\">Sign out</button>")}</nav>
            """;
        return TypedResults.Text($"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>{E(title)} · {E(web.Value.NewsroomName)} desk</title>
            <link rel="stylesheet" href="/static/site.css">
            </head>
            <body class="desk">
            <header><a href="/desk">{E(web.Value.NewsroomName)} desk</a>{nav}</header>
            <main>
            {main}
            </main>
            </body>
            </html>
            """, "text/html; charset=utf-8", statusCode: status);
    }

    private static string Minute(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static string E(string value) => Html.Encode(value);
}
