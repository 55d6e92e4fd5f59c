using System.Security.Cryptography;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>
/// `secureintake-desk grant` and `revoke` against a running server: a third key is let into a submission from the
/// desk key's machine, opens every item with stock gpg and sq, and is let out again.
/// </summary>
public sealed class GrantLoopTests(DeskService desk) : IClassFixture<DeskService>, IDisposable
{
    private readonly GrantSteps _steps = new(desk, "si-grant-loop-");

    public void Dispose() => _steps.Dispose();

    [Fact]
    public async Task A_granted_key_opens_every_item_with_gpg_and_sq_and_a_revoked_one_no_longer_does()
    {
        var secret = await desk.AddEditorAsync("granter", admin: true); // the audit page is for admins
        var document = RandomNumberGenerator.GetBytes(150_000);
        var id = await SubmitAsync(document);
        using var browser = await desk.SignedInBrowserAsync("granter", secret);
        var session = await LoginAsync("granter", secret);
        using var lawyer = new GnuPgHome();
        var lawyerKey = await _steps.NewKeyAsync(lawyer, "<lawyer@newsroom.invalid>");
        var before = await ItemsAsync(browser, id, "before");
        foreach (var item in before.Values)
        {
            Assert.NotEqual(0, (await lawyer.DecryptAsync(item)).ExitCode);
        }

        var grant = (await RunToolAsync("\n", "grant", id, "--to", lawyerKey.File, "--key", desk.Keys.SecretKey, "--session", session))
            .EnsureSuccess("secureintake-desk grant");

        Assert.Contains($"granted {lawyerKey.Fingerprint} access to {before.Count} of {before.Count} items", grant.OutputText, StringComparison.Ordinal);
        var after = await ItemsAsync(browser, id, "after");
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, file) in after)
        {
            var expected = await desk.Keys.DecryptAsync(before[name]);
            Assert.Equal(expected, (await lawyer.DecryptAsync(file)).EnsureSuccess($"gpg --decrypt {name} as the lawyer").Output);
            Assert.Equal(expected, (await SqDecryptAsync(lawyerKey.Secret, file)).EnsureSuccess($"sq decrypt {name} as the lawyer").Output);
            Assert.Equal(expected, await desk.Keys.DecryptAsync(file));
        }

        Assert.Contains("<td>granted access</td>", await browser.GetStringAsync(new Uri("/desk/audit", UriKind.Relative)), StringComparison.Ordinal);

        var revoke = (await RunToolAsync("", "revoke", id, "--from", lawyerKey.File, "--session", session)).EnsureSuccess("secureintake-desk revoke");

        Assert.Contains("copies taken before still open with the revoked key", revoke.Error, StringComparison.Ordinal);
        foreach (var (name, file) in await ItemsAsync(browser, id, "revoked"))
        {
            Assert.NotEqual(0, (await lawyer.DecryptAsync(file)).ExitCode);
            Assert.Equal(await desk.Keys.DecryptAsync(before[name]), await desk.Keys.DecryptAsync(file));
        }

        Assert.Contains("<td>revoked access</td>", await browser.GetStringAsync(new Uri("/desk/audit", UriKind.Relative)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("expired", "expired on")]
    [InlineData("sign-only", "for signing only")]
    [InlineData("revoked", "the key is revoked")]
    public async Task An_unusable_key_is_refused_with_the_reason_and_nothing_changes(string kind, string reason)
    {
        var secret = await desk.AddEditorAsync($"refuser-{kind}");
        var id = await SubmitAsync([1, 2, 3]);
        using var browser = await desk.SignedInBrowserAsync($"refuser-{kind}", secret);
        var session = await LoginAsync($"refuser-{kind}", secret);
        var before = await ItemsAsync(browser, id, "before");
        var keyFile = kind switch { "expired" => desk.Keys.Expired, "sign-only" => desk.Keys.SignOnly, _ => desk.Keys.Revoked };

        var grant = await RunToolAsync("\n", "grant", id, "--to", keyFile, "--key", desk.Keys.SecretKey, "--session", session);

        Assert.Equal(1, grant.ExitCode);
        Assert.Contains(reason, grant.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", grant.Error, StringComparison.Ordinal);
        var after = await ItemsAsync(browser, id, "after");
        foreach (var (name, file) in before)
        {
            Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(after[name]));
        }
    }

    private static async Task<ToolResult> SqDecryptAsync(byte[] secretKey, string file)
    {
        using var sq = new Sequoia();
        return await sq.DecryptAsync(secretKey, file);
    }

    private Task<string> SubmitAsync(byte[] document) => _steps.SubmitAsync(document);

    private Task<string> LoginAsync(string name, byte[] secret) => _steps.LoginAsync(name, secret);

    private Task<Dictionary<string, string>> ItemsAsync(HttpClient browser, string id, string folder) => _steps.ItemsAsync(browser, id, folder);

    private static Task<ToolResult> RunToolAsync(string input, params string[] arguments) => GrantSteps.RunToolAsync(input, arguments);
}
