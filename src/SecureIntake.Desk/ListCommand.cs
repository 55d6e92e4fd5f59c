using System.CommandLine;
using System.Globalization;
using System.Text;
using SecureIntake.Contracts;

namespace SecureIntake.Desk;

/// <summary>`secureintake-desk list`: the desk's queue, one page at a time, as an aligned table.</summary>
internal static class ListCommand
{
    public static readonly string[] Statuses = ["new", "in-review", "needs-follow-up", "verified", "published", "discarded"];

    private static readonly string[] Headers =
        ["ID", "RECEIVED (UTC)", "DESK", "CHANNEL", "STATUS", "ASSIGNEE", "PRIORITY", "TAGS", "FILES", "SIZE", "FROM WITNESS"];

    public static Command Build()
    {
        var status = new Option<string?>("--status") { HelpName = "STATUS", Description = "Only submissions with this status: new, in-review, needs-follow-up, verified, published or discarded" };
        status.AcceptOnlyFromAmong(Statuses);
        var page = new Option<int?>("--page") { HelpName = "N", Description = "Which page of the queue, from 1 (default: the first)" };
        page.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1)
            {
                result.AddError("--page counts from 1");
            }
        });
        var session = SessionFile.CreateOption();
        var command = new Command("list", "Show the desk's submissions; \"new\" under FROM WITNESS marks those the witness wrote to since you last looked")
        {
            status, page, session,
        };
        command.SetAction((parse, cancellationToken) =>
            RunAsync(parse.GetValue(status), parse.GetValue(page), parse.GetValue(session), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string? status, int? page, FileInfo? sessionOption, CancellationToken cancellationToken)
    {
        SubmissionPage answer;
        try
        {
            var session = await SessionFile.LoadAsync(SessionFile.PathOf(sessionOption), cancellationToken);
            using var api = DeskApiClient.ForSession(session);
            answer = await api.ListAsync(status, page, cancellationToken);
        }
        catch (DeskToolException e)
        {
            return Failure.Report(e.Message);
        }

        Console.Write(Format(answer));
        return 0;
    }

    public static string Format(SubmissionPage answer)
    {
        var text = new StringBuilder();
        if (answer.Submissions.Count == 0)
        {
            text.AppendLine("no submissions");
        }
        else
        {
            var rows = answer.Submissions.Select(Row).Prepend(Headers).ToList();
            var widths = Enumerable.Range(0, Headers.Length).Select(column => rows.Max(row => TerminalText.Width(row[column]))).ToArray();
            foreach (var row in rows)
            {
                var line = new StringBuilder();
                for (var column = 0; column < row.Length; column++)
                {
                    var padding = new string(' ', widths[column] - TerminalText.Width(row[column]));
                    // Counts read best right-aligned; everything else left-aligned.
                    line.Append(Headers[column] == "FILES" ? padding + row[column] : row[column] + padding).Append("  ");
                }

                text.AppendLine(line.ToString().TrimEnd());
            }
        }

        var more = answer.MoreThanTotal ? "more than " : "";
        var total = answer.Total == 1 && !answer.MoreThanTotal ? "1 submission" : string.Create(CultureInfo.InvariantCulture, $"{more}{answer.Total} submissions");
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"page {answer.Page} of {more}{Math.Max(answer.PageCount, 1)} ({total})"));
        return text.ToString();
    }

    private static string[] Row(SubmissionSummary submission) =>
    [
        submission.Id.ToString("D"),
        submission.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
        Cell(submission.Desk),
        Cell(submission.Channel),
        Cell(submission.Status),
        submission.Assignee is null ? "-" : Cell(submission.Assignee),
        Cell(submission.Priority),
        submission.Tags.Count == 0 ? "-" : Cell(string.Join(",", submission.Tags)),
        submission.Files.ToString(CultureInfo.InvariantCulture),
        Cell(submission.SizeBucket),
        submission.WitnessWroteSinceSeen ? "new" : "",
    ];

    private static string Cell(string text) => TerminalText.Clean(text, maxLength: 40);
}
