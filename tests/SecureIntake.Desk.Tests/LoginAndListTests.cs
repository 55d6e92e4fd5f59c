using System.Globalization;
using System.Text.Json;
using SecureIntake.Contracts;
using SecureIntake.Testing;

namespace SecureIntake.Desk.Tests;

public sealed class LoginAndListTests : IAsyncLifetime, IDisposable
{
    private static readonly string[] RightAnswers = [FakeDeskServer.EditorPassword, FakeDeskServer.EditorCode];
    private readonly TemporaryDirectory _files = new("si-desk-login-");
    private FakeDeskServer _server = null!;

    private string SessionPath => _files.File("session.json");

    public async Task InitializeAsync() => _server = await FakeDeskServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Login_keeps_the_session_owner_only_in_the_config_folder()
    {
        var environment = new Dictionary<string, string>
        {
            ["XDG_CONFIG_HOME"] = _files.File("config"),
            ["HOME"] = _files.File("home"),
        };

        var result = await DeskTool.RunAsync(RightAnswers, environment, "login", "--server", _server.Url, "--name", FakeDeskServer.EditorName);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("expires at 2099-11-30 18:00 UTC", result.OutputText, StringComparison.Ordinal);
        var session = _files.File("config/secureintake-desk/session.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(session));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(session)!));
        using var saved = JsonDocument.Parse(await File.ReadAllBytesAsync(session));
        Assert.Equal(_server.Url, saved.RootElement.GetProperty("server").GetString());
        Assert.False(string.IsNullOrEmpty(saved.RootElement.GetProperty("token").GetString()));
        Assert.Equal(FakeDeskServer.SessionExpiry, saved.RootElement.GetProperty("expiresAt").GetDateTimeOffset());
        Assert.DoesNotContain(FakeDeskServer.EditorPassword, await File.ReadAllTextAsync(session), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_files.Path, "*.partial", SearchOption.AllDirectories));

        var list = await DeskTool.RunAsync([], environment, "list");

        Assert.True(list.ExitCode == 0, list.Error);
    }

    [Fact]
    public async Task A_second_login_replaces_the_session_and_it_stays_owner_only()
    {
        await SignInAsync();
        var first = await File.ReadAllTextAsync(SessionPath);
        File.SetUnixFileMode(SessionPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await SignInAsync();

        Assert.NotEqual(first, await File.ReadAllTextAsync(SessionPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SessionPath));
    }

    [Fact]
    public async Task A_wrong_password_is_refused_and_no_session_is_kept()
    {
        var result = await DeskTool.RunAsync(["not the password", FakeDeskServer.EditorCode],
            "login", "--server", _server.Url, "--name", FakeDeskServer.EditorName, "--session", SessionPath);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("secureintake-desk: sign-in refused: The name, password or code is wrong.", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(SessionPath));
    }

    [Fact]
    public async Task A_throttled_sign_in_shows_the_servers_reason()
    {
        _server.ThrottleSignIns = true;

        var result = await DeskTool.RunAsync(RightAnswers,
            "login", "--server", _server.Url, "--name", FakeDeskServer.EditorName, "--session", SessionPath);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Too many sign-in attempts; try again in 15 minutes.", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(SessionPath));
    }

    [Theory]
    [InlineData("http://desk.example.org")]
    [InlineData("http://192.168.1.20:8080")]
    [InlineData("http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuv.onion")]
    public async Task Plain_http_to_another_host_is_refused_before_the_password_is_asked(string server)
    {
        var result = await DeskTool.RunAsync(RightAnswers, "login", "--server", server, "--name", "alice", "--session", SessionPath);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("in the clear", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(SessionPath));
    }

    [Theory]
    [InlineData("12345")]
    [InlineData("1234567")]
    [InlineData("12a456")]
    [InlineData("")]
    public async Task A_code_that_is_not_six_digits_is_refused_before_signing_in(string code)
    {
        var result = await DeskTool.RunAsync([FakeDeskServer.EditorPassword, code],
            "login", "--server", _server.Url, "--name", FakeDeskServer.EditorName, "--session", SessionPath);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("6 digits", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_code_typed_in_two_groups_is_accepted()
    {
        var result = await DeskTool.RunAsync([FakeDeskServer.EditorPassword, "123 456"],
            "login", "--server", _server.Url, "--name", FakeDeskServer.EditorName, "--session", SessionPath);

        Assert.True(result.ExitCode == 0, result.Error);
    }

    [Fact]
    public async Task The_queue_is_listed_as_an_aligned_table_with_its_page()
    {
        _server.Queue = new SubmissionPage(2, 3, 57,
        [
            Summary("3f2a6c1e-8d4b-4f7a-9c1e-2b3d4e5f6a7b", "2026-11-30T17:05:42+00:00", "new", null, ["army", "протест"], 2, "< 1 MB", true),
            Summary("0b9e8d7c-6a5b-4c3d-2e1f-0a9b8c7d6e5f", "2026-11-30T23:59:59+05:00", "needs-follow-up", "Әлия", [], 12, "10–100 MB", false),
        ]);
        await SignInAsync();

        var result = await DeskTool.RunAsync([], "list", "--status", "needs-follow-up", "--page", "2", "--session", SessionPath);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("?status=needs-follow-up&page=2", Assert.Single(_server.ListQueries));
        var lines = result.OutputText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        var header = lines[0];
        Assert.StartsWith("ID ", header, StringComparison.Ordinal);
        var first = lines[1];
        var second = lines[2];
        Assert.StartsWith("3f2a6c1e-8d4b-4f7a-9c1e-2b3d4e5f6a7b  2026-11-30 17:05  default  web", first, StringComparison.Ordinal);
        // Received times are shown in UTC: 23:59 at +05:00 is 18:59 UTC.
        Assert.Contains("2026-11-30 18:59", second, StringComparison.Ordinal);
        Assert.Equal(header.IndexOf("STATUS", StringComparison.Ordinal), first.IndexOf("new ", StringComparison.Ordinal));
        Assert.Equal(header.IndexOf("STATUS", StringComparison.Ordinal), second.IndexOf("needs-follow-up", StringComparison.Ordinal));
        Assert.Equal(header.IndexOf("ASSIGNEE", StringComparison.Ordinal), first.IndexOf("- ", first.IndexOf("new ", StringComparison.Ordinal), StringComparison.Ordinal));
        Assert.Equal(header.IndexOf("ASSIGNEE", StringComparison.Ordinal), second.IndexOf("Әлия", StringComparison.Ordinal));
        Assert.Equal(header.IndexOf("TAGS", StringComparison.Ordinal), first.IndexOf("army,протест", StringComparison.Ordinal));
        Assert.Equal(header.IndexOf("SIZE", StringComparison.Ordinal), second.IndexOf("10–100 MB", StringComparison.Ordinal));
        Assert.Equal(header.IndexOf("FROM WITNESS", StringComparison.Ordinal), first.LastIndexOf("new", StringComparison.Ordinal));
        Assert.EndsWith("10–100 MB", second, StringComparison.Ordinal);
        Assert.Equal("page 2 of 3 (57 submissions)", lines[3]);
    }

    [Fact]
    public async Task An_empty_queue_says_so()
    {
        await SignInAsync();

        var result = await DeskTool.RunAsync([], "list", "--session", SessionPath);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("no submissions\npage 1 of 1 (0 submissions)\n", result.OutputText);
        Assert.Equal("", Assert.Single(_server.ListQueries));
    }

    [Fact]
    public async Task A_queue_counting_more_submissions_than_an_int_holds_is_listed_with_its_total()
    {
        _server.Queue = new SubmissionPage(1, 1_500_000_000, 3_000_000_000L, []);
        await SignInAsync();

        var result = await DeskTool.RunAsync([], "list", "--session", SessionPath);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.EndsWith("page 1 of 1500000000 (3000000000 submissions)\n", result.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_queue_the_server_stopped_counting_says_more_than()
    {
        _server.Queue = new SubmissionPage(3, 200, 10_000, [], MoreThanTotal: true);
        await SignInAsync();

        var result = await DeskTool.RunAsync([], "list", "--session", SessionPath);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.EndsWith("page 3 of more than 200 (more than 10000 submissions)\n", result.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_queue_answer_missing_a_field_is_refused_rather_than_shown_empty()
    {
        _server.QueueJson = """{"page":1,"pageCount":1,"total":1,"submissions":[{"id":"3f2a6c1e-8d4b-4f7a-9c1e-2b3d4e5f6a7b","desk":"default","channel":"web","receivedAt":"2026-11-30T17:05:00+00:00","assignee":null,"priority":"normal","tags":[],"files":1,"sizeBucket":"< 1 MB","witnessWroteSinceSeen":false}]}""";
        await SignInAsync();

        var result = await DeskTool.RunAsync([], "list", "--session", SessionPath);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is not what this version of secureintake-desk expects", result.Error, StringComparison.Ordinal);
        Assert.Contains("status", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task Text_from_the_server_cannot_send_escape_sequences_to_the_terminal()
    {
        _server.Queue = new SubmissionPage(1, 1, 1,
            [Summary("3f2a6c1e-8d4b-4f7a-9c1e-2b3d4e5f6a7b", "2026-11-30T17:05:00+00:00", "new", "\u001b]0;owned\u0007eve", ["a\u202Eb"], 1, "< 1 MB", false)]);
        await SignInAsync();

        var result = await DeskTool.RunAsync([], "list", "--session", SessionPath);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.DoesNotContain('\u001b', result.OutputText);
        Assert.DoesNotContain('\u202E', result.OutputText);
        Assert.Contains("?]0;owned?eve", result.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_ended_session_tells_the_editor_to_log_in_again()
    {
        await SignInAsync();
        _server.EndAllSessions();

        var result = await DeskTool.RunAsync([], "list", "--session", SessionPath);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("secureintake-desk: ", result.Error, StringComparison.Ordinal);
        Assert.Contains("run `secureintake-desk login` again", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task An_expired_session_is_refused_without_asking_the_server()
    {
        await File.WriteAllTextAsync(SessionPath, $$"""{"server":"{{_server.Url}}","token":"abc","expiresAt":"2020-01-01T00:00:00+00:00"}""");

        var result = await DeskTool.RunAsync([], "list", "--session", SessionPath);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("expired at 2020-01-01 00:00 UTC; run `secureintake-desk login` again", result.Error, StringComparison.Ordinal);
        Assert.Empty(_server.ListQueries);
    }

    [Fact]
    public async Task Without_a_session_list_says_how_to_sign_in()
    {
        var result = await DeskTool.RunAsync([], "list", "--session", SessionPath);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("secureintake-desk login --server URL --name NAME", result.Error, StringComparison.Ordinal);
    }

    private async Task SignInAsync() =>
        (await DeskTool.RunAsync(RightAnswers, "login", "--server", _server.Url, "--name", FakeDeskServer.EditorName, "--session", SessionPath))
            .EnsureSuccess("secureintake-desk login");

    private static SubmissionSummary Summary(string id, string receivedAt, string status, string? assignee, string[] tags, int files, string size, bool witnessWrote) =>
        new(Guid.Parse(id), "default", "web", DateTimeOffset.Parse(receivedAt, CultureInfo.InvariantCulture), status, assignee, "normal", tags, files, size, witnessWrote);
}
