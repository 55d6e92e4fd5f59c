using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using SecureIntake.Server.Tests.Desk;
using SecureIntake.Server.Tests.Witness;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Backup;

/// <summary>
/// A running `secureintake web` with two submissions on it, one through the witness form with a file and one
/// piped in by the MTA, what the desk showed of them, and one backup taken while the service ran.
/// </summary>
public sealed partial class BackupTestBed : IAsyncLifetime, IDisposable
{
    public const string Editor = "keeper";

    public static readonly byte[] Mail = Encoding.UTF8.GetBytes(
        "From: witness@example.invalid\r\nTo: tips@newsroom.invalid\r\nSubject: akimat\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
        "Они стреляли у акимата.\r\n");

    private readonly TemporaryDirectory _backups = new("si-backups-");

    public DeskService Service { get; } = new();

    public byte[] Document { get; } = RandomNumberGenerator.GetBytes(300_000);

    public byte[] TotpSecret { get; private set; } = [];

    /// <summary>Each submission's id and its items as the desk handed them out before the backup: file name, ciphertext, plaintext.</summary>
    public Dictionary<string, List<DeskItem>> Before { get; } = [];

    /// <summary>The backup taken while the service ran; tests copy it before changing anything in it.</summary>
    public string Backup => Path.Combine(_backups.Path, "first");

    public ToolResult BackupRun { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Service.InitializeAsync();
        TotpSecret = await Service.AddEditorAsync(Editor, admin: true);

        using var witness = Service.NewWitnessBrowser();
        var form = WitnessForms.Multipart(await WitnessForms.TokenAsync(witness), "Shots near the akimat at 14:10; the video is attached.");
        var file = new ByteArrayContent(Document);
        file.Headers.ContentType = new MediaTypeHeaderValue("video/mp4");
        form.Add(file, "files", "shooting.mp4");
        using var submitted = await witness.PostAsync(new Uri("/en/submit", UriKind.Relative), form);
        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);

        (await ExternalTool.RunAsync("dotnet", [Program, "ingest-mail", $"--Storage:BlobDirectory={Service.BlobDirectory}"], Mail,
            SecureIntakeCli.EnvironmentFor(Service.Database), TimeSpan.FromMinutes(2))).EnsureSuccess("ingest-mail");

        using var browser = await Service.SignedInBrowserAsync(Editor, TotpSecret);
        foreach (var id in await SubmissionIdsAsync(browser))
        {
            Before[id] = await ItemsAsync(browser, id);
        }

        Assert.Equal(2, Before.Count);
        BackupRun = await SecureIntakeCli.RunAsync(Service.Database, "backup", "--to", Backup, $"--Storage:BlobDirectory={Service.BlobDirectory}");
    }

    public async Task DisposeAsync() => await Service.DisposeAsync();

    public void Dispose()
    {
        Service.Dispose();
        _backups.Dispose();
    }

    public static string Program => Path.Combine(AppContext.BaseDirectory, "secureintake.dll");

    /// <summary>A copy of the backup for one test to change.</summary>
    public string CopyOfBackup()
    {
        var copy = Path.Combine(_backups.Path, Guid.NewGuid().ToString("N"));
        foreach (var file in Directory.EnumerateFiles(Backup, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(Backup, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return copy;
    }

    /// <summary>Every submission id the signed-in editor's queue shows.</summary>
    public static async Task<List<string>> SubmissionIdsAsync(HttpClient browser) =>
        SubmissionLink().Matches(await browser.GetStringAsync(new Uri("/desk?status=new", UriKind.Relative))).Select(m => m.Groups[1].Value).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>A submission's items from its archive download, each decrypted by stock gpg with the editor's secret key.</summary>
    public async Task<List<DeskItem>> ItemsAsync(HttpClient browser, string id)
    {
        using var archive = new ZipArchive(await browser.GetStreamAsync(new Uri($"/desk/submissions/{id}/archive.zip", UriKind.Relative)));
        using var work = new TemporaryDirectory("si-backup-archive-");
        archive.ExtractToDirectory(work.Path);
        var items = new List<DeskItem>();
        foreach (var item in Directory.GetFiles(work.Path, "*.gpg").Order(StringComparer.Ordinal))
        {
            items.Add(new DeskItem(Path.GetFileName(item), await File.ReadAllBytesAsync(item), await Service.Keys.DecryptAsync(item)));
        }

        return items;
    }

    /// <summary>A new, empty database on the shared cluster.</summary>
    public static async Task<string> EmptyDatabaseAsync() => await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();

    /// <summary>The tables in every schema but the system's: none after a refused restore.</summary>
    public static async Task<long> TableCountAsync(string database)
    {
        await using var dataSource = NpgsqlDataSource.Create(database);
        await using var command = dataSource.CreateCommand(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public static Task<ToolResult> RestoreAsync(string database, string blobDirectory, string from) =>
        SecureIntakeCli.RunAsync(database, "restore", "--from", from, $"--Storage:BlobDirectory={blobDirectory}");

    [GeneratedRegex("/desk/submissions/([0-9a-f-]{36})")]
    private static partial Regex SubmissionLink();
}

public sealed record DeskItem(string Name, byte[] Ciphertext, byte[] Plaintext);
