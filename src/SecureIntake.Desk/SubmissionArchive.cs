using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using SecureIntake.Contracts;

namespace SecureIntake.Desk;

/// <summary>
/// A downloaded submission archive: manifest.json and one .gpg per item. It is read from the file on disk,
/// entry by entry, and no entry is trusted to be the size it claims: each is cut off at what the manifest says.
/// </summary>
internal sealed partial class SubmissionArchive : IDisposable
{
    public const string ManifestEntry = "manifest.json";
    private const long MaxManifestBytes = 16 * 1024 * 1024;

    private readonly ZipArchive _zip;

    private SubmissionArchive(ZipArchive zip, ArchiveManifest manifest)
    {
        _zip = zip;
        Manifest = manifest;
    }

    public ArchiveManifest Manifest { get; }

    public static async Task<SubmissionArchive> OpenAsync(string path, Guid submission, CancellationToken cancellationToken)
    {
        ZipArchive? zip = null;
        try
        {
            zip = new ZipArchive(File.OpenRead(path), ZipArchiveMode.Read, leaveOpen: false);
            var entry = zip.GetEntry(ManifestEntry) ?? throw new DeskToolException("the archive holds no manifest.json");
            if (entry.Length > MaxManifestBytes)
            {
                throw new DeskToolException($"the archive's manifest.json is {entry.Length} bytes, more than a manifest can be");
            }

            var bytes = new MemoryStream();
            await using (var source = entry.Open())
            {
                await CopyAtMostAsync(source, bytes, MaxManifestBytes, cancellationToken);
            }

            var manifest = JsonSerializer.Deserialize(bytes.ToArray(), ContractJson.Default.ArchiveManifest)
                ?? throw new DeskToolException("the archive's manifest.json is empty");
            if (manifest.Version != ArchiveManifest.CurrentVersion)
            {
                throw new DeskToolException($"the archive is of version {manifest.Version}, which this secureintake-desk does not read; update it");
            }

            if (manifest.Submission != submission)
            {
                throw new DeskToolException($"the server sent the archive of submission {manifest.Submission} instead; nothing was written");
            }

            var archive = new SubmissionArchive(zip, manifest);
            zip = null;
            return archive;
        }
        catch (Exception e) when (e is InvalidDataException or JsonException)
        {
            throw new DeskToolException($"the download is not a readable submission archive ({TerminalText.Clean(e.Message)})");
        }
        finally
        {
            zip?.Dispose();
        }
    }

    /// <summary>
    /// A name from the manifest that is only a file name: it becomes one under encrypted/, as it is. A Windows
    /// device name ("NUL.gpg") would open the device there instead of a file.
    /// </summary>
    public static bool IsPlainEntryName(string name) => PlainEntryName().IsMatch(name) && !SafeFileNames.IsDeviceName(name);

    /// <summary>
    /// Copies an entry byte for byte into <paramref name="destination"/>, failing when it is missing, damaged,
    /// or not <paramref name="expectedBytes"/> long (when given).
    /// </summary>
    public async Task CopyAsync(string name, long? expectedBytes, Stream destination, CancellationToken cancellationToken)
    {
        var entry = _zip.GetEntry(name) ?? throw new DeskToolException("it is missing from the archive");
        if (expectedBytes is { } expected && entry.Length != expected)
        {
            throw new DeskToolException($"the archive holds {entry.Length} bytes of it, the manifest says {expected}");
        }

        try
        {
            await using var source = entry.Open();
            var copied = await CopyAtMostAsync(source, destination, expectedBytes ?? MaxManifestBytes, cancellationToken);
            if (expectedBytes is { } length && copied != length)
            {
                throw new DeskToolException($"the archive holds {copied} bytes of it, the manifest says {length}");
            }
        }
        catch (InvalidDataException e)
        {
            throw new DeskToolException($"its entry in the archive is damaged ({TerminalText.Clean(e.Message)})");
        }
    }

    public void Dispose() => _zip.Dispose();

    private static async Task<long> CopyAtMostAsync(Stream source, Stream destination, long limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
            if (total > limit)
            {
                throw new DeskToolException($"it is larger than the {limit} bytes it may be");
            }

            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        return total;
    }

    // Item ids are the server's own (UUIDs today); anything that could climb out of encrypted/ is refused.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_-]{0,150}\.gpg\z", RegexOptions.CultureInvariant)]
    private static partial Regex PlainEntryName();
}
