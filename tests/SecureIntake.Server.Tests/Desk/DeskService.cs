using System.Net;
using System.Text.RegularExpressions;
using SecureIntake.Core.Editors;
using SecureIntake.Server.Tests.Witness;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>
/// One `secureintake web` with its own database, a recipient key whose secret half the "editor" holds, and
/// editors made with `secureintake editors add` as an admin would.
/// </summary>
public sealed partial class DeskService : IAsyncLifetime, IDisposable
{
    public const string Password = "kettle-orbit-mangrove-17";
    private readonly TemporaryDirectory _blobs = new("si-desk-blobs-");
    private readonly Dictionary<string, long> _lastStep = [];
    private readonly string[] _settings;
    private RunningService? _service;

    public DeskService()
        : this([])
    {
    }

    /// <param name="settings">Settings on the server's command line, after the test defaults.</param>
    internal DeskService(string[] settings) => _settings = settings;

    public ServerTestKeys Keys { get; } = new();

    public string Database { get; private set; } = "";

    /// <summary>The witness listener: the form, the return page, the thread.</summary>
    public Uri Address => _service!.Address;

    /// <summary>The desk's own listener: /desk pages, the desk tool's API and the job dashboard.</summary>
    public Uri DeskAddress => _service!.DeskAddress;

    public string BlobDirectory => _blobs.Path;

    public async Task InitializeAsync()
    {
        await Keys.InitializeAsync();
        Database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(Database, "keys", "add", Keys.Usable)).EnsureSuccess("keys add");
        _service = await SecureIntakeCli.StartReadyAsync(Database, "web", [$"--Storage:BlobDirectory={_blobs.Path}", .. _settings]);
    }

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
    }

    public void Dispose()
    {
        Keys.Dispose();
        _blobs.Dispose();
    }

    /// <summary>Adds an editor through the CLI and returns their TOTP secret, read from what the CLI printed.</summary>
    /// <param name="renewed">
    /// Whether the editor has already put their own password and authenticator in place of the admin's (most tests start
    /// there; the account tests start from the admin's). The test keeps both, standing in for the editor.
    /// </param>
    public async Task<byte[]> AddEditorAsync(string name, bool admin = false, bool renewed = true)
    {
        string[] arguments = admin ? ["editors", "add", name, "--admin"] : ["editors", "add", name];
        var result = (await SecureIntakeCli.RunWithInputAsync(Database, Password + "\n", arguments)).EnsureSuccess("editors add");
        var secret = SecretPattern().Match(result.OutputText);
        Assert.True(secret.Success, result.OutputText);
        if (renewed)
        {
            await ExecuteAsync($"UPDATE editors SET password_set_by_admin = false, totp_seen_by_admin = false WHERE name = '{name}'");
        }

        return Totp.FromBase32(secret.Groups[1].Value);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(Database);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// The next code an authenticator would show that the server has not seen yet (codes work once). A test that
    /// signs the same editor in several times within 30 s runs ahead of the clock; the server accepts one step of
    /// drift, so beyond that this waits until the clock has caught up.
    /// </summary>
    public string NextCode(string name, byte[] secret)
    {
        var step = Math.Max(Totp.StepAt(DateTimeOffset.UtcNow), _lastStep.GetValueOrDefault(name) + 1);
        var deadline = DateTimeOffset.UtcNow.AddSeconds(90);
        while (step > Totp.StepAt(DateTimeOffset.UtcNow) + 1)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the clock did not reach the next TOTP step");
            Thread.Sleep(250);
        }

        _lastStep[name] = step;
        return Totp.Code(secret, step);
    }

    public HttpClient NewDeskBrowser() => WitnessForms.NewBrowserlikeClient(DeskAddress);

    public HttpClient NewWitnessBrowser() => WitnessForms.NewBrowserlikeClient(Address);

    /// <summary>Signs a browser in through the sign-in form; returns the response (a redirect to /desk when it worked).</summary>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string name, string password, string code)
    {
        var token = await WitnessForms.TokenAsync(browser, "/desk/sign-in");
        return await browser.PostAsync(new Uri("/desk/sign-in", UriKind.Relative),
            new FormUrlEncodedContent([new("token", token), new("name", name), new("password", password), new("code", code)]));
    }

    public async Task<HttpClient> SignedInBrowserAsync(string name, byte[] secret)
    {
        var browser = NewDeskBrowser();
        using var response = await SignInAsync(browser, name, Password, NextCode(name, secret));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return browser;
    }

    /// <summary>Posts a desk form the way the page's own form does: with the session's form token read from the page.</summary>
    public static async Task<HttpResponseMessage> PostDeskFormAsync(HttpClient browser, string page, string action, params (string Key, string Value)[] fields) =>
        await PostWithTokenAsync(browser, await FormTokenAsync(browser, page), action, fields);

    /// <summary>Posts a desk form with the form token given (null: none at all), as a forging site or a stale page would.</summary>
    public static Task<HttpResponseMessage> PostWithTokenAsync(HttpClient browser, string? token, string action, params (string Key, string Value)[] fields) =>
        browser.PostAsync(new Uri(action, UriKind.Relative), new FormUrlEncodedContent(
            [.. token is null ? [] : new[] { new KeyValuePair<string, string>("form", token) }, .. fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))]));

    /// <summary>The form token the desk put on <paramref name="page"/> for this browser's session.</summary>
    public static async Task<string> FormTokenAsync(HttpClient browser, string page = "/desk")
    {
        var html = await browser.GetStringAsync(new Uri(page, UriKind.Relative));
        var token = FormTokenPattern().Match(html);
        Assert.True(token.Success, $"no form token on {page}");
        return token.Groups[1].Value;
    }

    /// <summary>What a post can carry instead of its own session's token: nothing, a made-up value, another session's token.</summary>
    public static async Task<IReadOnlyList<(string What, string? Token)>> WrongTokensAsync(HttpClient otherSession) =>
        [("no form token", null), ("a forged form token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), ("another session's form token", await FormTokenAsync(otherSession))];

    /// <summary>One value from the server's database, for checking what a refused request left behind.</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(Database);
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    [GeneratedRegex(@"TOTP secret[^:]*: ([A-Z2-7]+)")]
    private static partial Regex SecretPattern();

    [GeneratedRegex("name=\"form\" value=\"([^\"]+)\"")]
    private static partial Regex FormTokenPattern();
}
