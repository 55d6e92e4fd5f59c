using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using SecureIntake.Server.Tests.Witness;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>
/// What the grant tests do against a running desk, as a witness and an editor would: submit through the witness form,
/// sign the desk tool in, run it, take the submission's archive apart, and make a key for someone new. Its files go
/// in a directory of its own, removed with it.
/// </summary>
internal sealed class GrantSteps(DeskService desk, string directoryPrefix) : IDisposable
{
    private readonly TemporaryDirectory _work = new(directoryPrefix);

    private static string DeskTool => Path.Combine(AppContext.BaseDirectory, "secureintake-desk.dll");

    public void Dispose() => _work.Dispose();

    /// <summary>Submits a message and one file through the witness form; returns the submission's id.</summary>
    public async Task<string> SubmitAsync(byte[] document)
    {
        using var witness = desk.NewWitnessBrowser();
        var form = WitnessForms.Multipart(await WitnessForms.TokenAsync(witness, "/en/submit"), "For the lawyer to read.");
        var file = new ByteArrayContent(document);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "files", "contract.pdf");
        var before = await SubmissionIdsAsync();
        using var submitted = await witness.PostAsync(new Uri("/en/submit", UriKind.Relative), form);
        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
        // Arrival is kept only to the minute, so the newest by received_at may be another test's: the new one is the one not there before.
        return Assert.Single((await SubmissionIdsAsync()).Except(before));
    }

    private async Task<IReadOnlyList<string>> SubmissionIdsAsync() =>
        (await desk.ScalarAsync<string>("SELECT COALESCE(string_agg(id::text, ','), '') FROM submissions")).Split(',', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Signs the desk tool in as <paramref name="name"/>; returns its session file.</summary>
    public async Task<string> LoginAsync(string name, byte[] secret)
    {
        var session = _work.File($"{name}-session.json");
        (await RunToolAsync($"{DeskService.Password}\n{desk.NextCode(name, secret)}\n", "login", "--server", desk.DeskAddress.ToString(), "--name", name,
            "--session", session)).EnsureSuccess("secureintake-desk login");
        return session;
    }

    /// <summary>Each item of the submission's archive as a file, by its name in the archive.</summary>
    public async Task<Dictionary<string, string>> ItemsAsync(HttpClient browser, string id, string folder)
    {
        var path = _work.File($"{id}-{folder}");
        using (var archive = new ZipArchive(await browser.GetStreamAsync(new Uri($"/desk/submissions/{id}/archive.zip", UriKind.Relative))))
        {
            archive.ExtractToDirectory(path);
        }

        return Directory.GetFiles(path, "*.gpg").ToDictionary(file => Path.GetFileName(file), file => file, StringComparer.Ordinal);
    }

    /// <summary>A new Curve25519 key in <paramref name="home"/>: its public key file, fingerprint, encryption subkey's fingerprint and secret key.</summary>
    public async Task<NewKey> NewKeyAsync(GnuPgHome home, string userId)
    {
        var fingerprint = await home.GenerateAsync(userId, "ed25519", "cert,sign", "never");
        var subkey = await home.AddSubkeyAsync(fingerprint, "cv25519", "encr", "never");
        var file = _work.File($"{fingerprint}.asc");
        await File.WriteAllBytesAsync(file, await home.ExportPublicAsync(fingerprint));
        return new NewKey(file, fingerprint, subkey, await home.ExportSecretAsync(fingerprint));
    }

    public static Task<ToolResult> RunToolAsync(string input, params string[] arguments) =>
        ExternalTool.RunAsync("dotnet", [DeskTool, .. arguments], Encoding.UTF8.GetBytes(input));
}

/// <param name="SubkeyFingerprint">The encryption subkey's: its last 16 digits are the key id an item's packet carries.</param>
internal sealed record NewKey(string File, string Fingerprint, string SubkeyFingerprint, byte[] Secret)
{
    public string KeyId => SubkeyFingerprint[^16..];
}
