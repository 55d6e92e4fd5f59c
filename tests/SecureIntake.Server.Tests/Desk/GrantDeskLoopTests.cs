using System.Security.Cryptography;
using System.Text.RegularExpressions;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>
/// `secureintake-desk grant --desk` against a running server after a key rotation: a submission encrypted to the desk's
/// recipients A and B, a key C added to the desk since, and the grant made from A's machine lets C open every older
/// item with stock gpg, without anyone sending the server a plaintext or a key.
/// </summary>
public sealed class GrantDeskLoopTests(DeskService desk) : IClassFixture<DeskService>, IDisposable
{
    private readonly GrantSteps _steps = new(desk, "si-grant-desk-");

    public void Dispose() => _steps.Dispose();

    [Fact]
    public async Task After_a_key_rotation_grant_desk_from_an_old_key_lets_the_new_desk_key_open_every_older_item_with_gpg()
    {
        // The fixture's desk key is A; B (RSA) joins it before the submission, so each item is encrypted to both.
        (await SecureIntakeCli.RunAsync(desk.Database, "keys", "add", desk.Keys.Second, "--desk", "default")).EnsureSuccess("keys add B");
        var secret = await desk.AddEditorAsync("rotator", admin: true); // the audit page is for admins
        var id = await _steps.SubmitAsync(RandomNumberGenerator.GetBytes(80_000));
        using var browser = await desk.SignedInBrowserAsync("rotator", secret);
        var session = await _steps.LoginAsync("rotator", secret);
        var before = await _steps.ItemsAsync(browser, id, "before");
        using var newcomer = new GnuPgHome();
        var c = await _steps.NewKeyAsync(newcomer, "New Editor <new-editor@newsroom.invalid>");
        foreach (var item in before.Values)
        {
            Assert.NotEqual(0, (await newcomer.DecryptAsync(item)).ExitCode);
        }

        // The rotation: C becomes one of the desk's recipients, the way an admin adds a key.
        (await SecureIntakeCli.RunAsync(desk.Database, "keys", "add", c.File, "--desk", "default")).EnsureSuccess("keys add C");

        var grant = (await GrantSteps.RunToolAsync("\n", "grant", id, "--desk", "--key", desk.Keys.SecretKey, "--session", session))
            .EnsureSuccess("secureintake-desk grant --desk");

        // Only C is said to be granted access, on every item; A and B are named as readers already, not as added.
        var lines = grant.OutputText.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal($"granted {c.Fingerprint} access to {before.Count} of {before.Count} items", Assert.Single(lines, line => line.StartsWith("granted ", StringComparison.Ordinal)));
        var already = Assert.Single(lines, line => line.EndsWith("could already read every item", StringComparison.Ordinal));
        Assert.Contains(desk.Keys.UsableFingerprint, already, StringComparison.Ordinal);
        Assert.Contains(desk.Keys.SecondFingerprint, already, StringComparison.Ordinal);
        Assert.DoesNotContain(c.Fingerprint, already, StringComparison.Ordinal);
        Assert.Equal(before.Count, lines.Count(line => line.Contains($": added {c.Fingerprint}; readable by ", StringComparison.Ordinal)));
        var after = await _steps.ItemsAsync(browser, id, "after");
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, file) in after)
        {
            var expected = await desk.Keys.DecryptAsync(before[name]);
            Assert.Equal(expected, (await newcomer.DecryptAsync(file)).EnsureSuccess($"gpg --decrypt {name} as C").Output);
            Assert.Equal(expected, await desk.Keys.DecryptAsync(file));
        }

        // Every item now carries packets for A, B and C, and C is named: the server knows it as a desk key.
        var page = await browser.GetStringAsync(new Uri($"/desk/submissions/{id}", UriKind.Relative));
        foreach (var fingerprint in new[] { desk.Keys.UsableFingerprint, desk.Keys.SecondFingerprint, c.Fingerprint })
        {
            Assert.Equal(before.Count, Regex.Count(page, $"<code class=\"fingerprint\">{fingerprint}</code>"));
        }

        var audit = await browser.GetStringAsync(new Uri("/desk/audit", UriKind.Relative));
        Assert.Equal(before.Count, Regex.Count(audit, $"<td>granted access</td><td><a href=\"/desk/submissions/{id}\">{id}</a></td><td>item [0-9a-f-]{{36}}: {c.KeyId}</td>"));

        // Run again, it finds nothing to do and changes nothing.
        var again = (await GrantSteps.RunToolAsync("\n", "grant", id, "--desk", "--key", desk.Keys.SecretKey, "--session", session))
            .EnsureSuccess("secureintake-desk grant --desk, again");
        Assert.Contains("could already read every item; nothing was changed", again.OutputText, StringComparison.Ordinal);
        foreach (var (name, file) in await _steps.ItemsAsync(browser, id, "again"))
        {
            Assert.Equal(await File.ReadAllBytesAsync(after[name]), await File.ReadAllBytesAsync(file));
        }
    }
}
