using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using SecureIntake.Contracts;
using SecureIntake.Crypto.Decryption;

namespace SecureIntake.Desk;

/// <summary>
/// Writes a pulled submission into its folder: encrypted/ with the archive's entries as they came, then each
/// item decrypted under a name of its own, then manifest.json. An item that fails is reported and the others
/// are still written; the result is 1 when any failed. When none could be decrypted, nothing is kept.
/// </summary>
internal sealed class SubmissionFolder
{
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const string EncryptedFolder = "encrypted";
    private const int MaxBatchManifestBytes = 4 * 1024 * 1024;

    // Original names are shown as the witness wrote them (Cyrillic included), but control and format characters
    // stay escaped, so that a bidi override in a name cannot reorder what an editor reads in manifest.json.
    private static readonly JsonTypeInfo<PulledManifest> ReadableManifest = (JsonTypeInfo<PulledManifest>)new JsonSerializerOptions(DeskJson.Default.Options)
    {
        Encoder = ReadableEncoder(),
    }.GetTypeInfo(typeof(PulledManifest));

    private readonly string _folder;
    private readonly SubmissionArchive _archive;
    private readonly OpenPgpDecryptor _decryptor;
    private readonly SafeFileNames _names = new([SubmissionArchive.ManifestEntry, EncryptedFolder]);
    private readonly List<PulledFile> _written = [];
    private readonly List<PulledFailure> _failed = [];

    public SubmissionFolder(string folder, SubmissionArchive archive, OpenPgpDecryptor decryptor)
    {
        _folder = folder;
        _archive = archive;
        _decryptor = decryptor;
    }

    private ArchiveManifest Manifest => _archive.Manifest;

    public async Task<int> WriteAsync(CancellationToken cancellationToken)
    {
        var encrypted = Path.Combine(_folder, EncryptedFolder);
        Directory.CreateDirectory(encrypted, OwnerOnlyDirectory);
        await PlaintextFile.WriteVerifiedAsync(
            Path.Combine(encrypted, SubmissionArchive.ManifestEntry),
            destination => _archive.CopyAsync(SubmissionArchive.ManifestEntry, null, destination, cancellationToken),
            cancellationToken);

        // Numbered in the order they were added; a batch's items share one time, so the batch breaks ties.
        var items = Manifest.Items
            .Select((item, index) => (Item: item, Index: index))
            .OrderBy(entry => entry.Item.AddedAt)
            .ThenBy(entry => entry.Item.Batch, StringComparer.Ordinal)
            .ThenBy(entry => entry.Index)
            .Select(entry => entry.Item)
            .ToList();
        var copied = new List<ArchiveItem>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in items)
        {
            if (await CopyEncryptedAsync(item, encrypted, seen, cancellationToken))
            {
                copied.Add(item);
            }
        }

        var originals = await ReadBatchManifestsAsync(copied.Where(item => item.Kind == "manifest"), cancellationToken);
        foreach (var (item, name, original) in PlanNames(copied.Where(item => item.Kind != "manifest"), originals))
        {
            await DecryptAsync(item, name, original, cancellationToken);
        }

        if (_written.Count == 0 && _failed.Count > 0)
        {
            // Nothing came out readable (a wrong key or passphrase, most likely): the folder is left as it was
            // found, so that pulling into it again works.
            foreach (var item in copied)
            {
                File.Delete(EncryptedPath(item));
            }

            File.Delete(Path.Combine(encrypted, SubmissionArchive.ManifestEntry));
            Directory.Delete(encrypted);
            return Failure.Report("no item could be decrypted, so nothing was kept; is --key your key, and the passphrase right?");
        }

        await PlaintextFile.WriteVerifiedAsync(
            Path.Combine(_folder, SubmissionArchive.ManifestEntry),
            destination => JsonSerializer.SerializeAsync(destination, new PulledManifest(
                1, Manifest.Submission, Manifest.Desk, Manifest.Channel, Manifest.ReceivedAt, _written, _failed), ReadableManifest, cancellationToken),
            cancellationToken);

        Console.WriteLine($"pulled submission {Manifest.Submission} into {_folder}: {_written.Count} file(s) decrypted");
        if (_failed.Count == 0)
        {
            return 0;
        }

        return Failure.Report(
            $"{_failed.Count} of {Manifest.Items.Count} item(s) could not be decrypted; they are listed in manifest.json and kept as they came in {Path.Combine(_folder, EncryptedFolder)}");
    }

    private async Task<bool> CopyEncryptedAsync(ArchiveItem item, string encrypted, HashSet<string> seen, CancellationToken cancellationToken)
    {
        if (!SubmissionArchive.IsPlainEntryName(item.File) || !seen.Add(item.File))
        {
            Fail(item, $"its name in the archive, '{TerminalText.Clean(item.File)}', is not a plain, unique <id>.gpg name; it was not copied", copied: false);
            return false;
        }

        try
        {
            await PlaintextFile.WriteVerifiedAsync(
                Path.Combine(encrypted, item.File),
                destination => _archive.CopyAsync(item.File, item.CiphertextBytes, destination, cancellationToken),
                cancellationToken);
            return true;
        }
        catch (DeskToolException e)
        {
            Fail(item, e.Message, copied: false);
            return false;
        }
    }

    /// <summary>The witness batches' own manifests, which alone hold the original file names.</summary>
    private async Task<Dictionary<(string Batch, string Item), BatchItem>> ReadBatchManifestsAsync(
        IEnumerable<ArchiveItem> manifests, CancellationToken cancellationToken)
    {
        var originals = new Dictionary<(string, string), BatchItem>();
        foreach (var item in manifests)
        {
            BatchManifest batch;
            try
            {
                using var plaintext = new BoundedBuffer(MaxBatchManifestBytes);
                await using (var source = File.OpenRead(EncryptedPath(item)))
                {
                    await _decryptor.DecryptAsync(source, plaintext, cancellationToken);
                }

                batch = JsonSerializer.Deserialize(plaintext.ToArray(), ContractJson.Default.BatchManifest)
                    ?? throw new JsonException("it is empty");
            }
            catch (Exception e) when (e is DecryptionException or JsonException)
            {
                Fail(item, $"{e.Message}; the files of batch {TerminalText.Clean(item.Batch)} are saved under numbered names");
                continue;
            }

            if (batch.Submission != Manifest.Submission || batch.Batch != item.Batch)
            {
                Fail(item, "it describes another batch or submission; its file names were not used");
                continue;
            }

            foreach (var entry in batch.Items)
            {
                originals.TryAdd((batch.Batch, entry.Id), entry);
            }
        }

        return originals;
    }

    /// <summary>
    /// Our own names are claimed first and the witness's after, so that a file the witness called
    /// "message-1.txt" becomes "message-1 (2).txt" rather than taking the message's place.
    /// </summary>
    private List<(ArchiveItem Item, string Name, BatchItem? Original)> PlanNames(
        IEnumerable<ArchiveItem> items, Dictionary<(string Batch, string Item), BatchItem> originals)
    {
        var plan = new List<(ArchiveItem Item, string? Name, int Number)>();
        var counts = new Dictionary<string, int>();
        foreach (var item in items)
        {
            var number = counts[item.Kind] = counts.GetValueOrDefault(item.Kind) + 1;
            string? name = item.Kind switch
            {
                "message" => _names.Claim($"message-{number}.txt", number),
                "email" => _names.Claim($"email-{number}.eml", number),
                "reply" => _names.Claim($"reply-{number}.txt", number),
                "file" => null,
                _ => "",
            };
            if (name == "")
            {
                Fail(item, $"items of kind '{TerminalText.Clean(item.Kind)}' are unknown to this version of secureintake-desk");
                continue;
            }

            plan.Add((item, name, number));
        }

        return plan.Select(entry =>
        {
            var original = originals.GetValueOrDefault((entry.Item.Batch, entry.Item.Id));
            return (entry.Item, entry.Name ?? _names.Claim(original?.FileName, entry.Number), original);
        }).ToList();
    }

    private async Task DecryptAsync(ArchiveItem item, string name, BatchItem? original, CancellationToken cancellationToken)
    {
        var target = Path.Combine(_folder, name);
        try
        {
            await PlaintextFile.WriteVerifiedAsync(target, async destination =>
            {
                await using var source = File.OpenRead(EncryptedPath(item));
                await _decryptor.DecryptAsync(source, destination, cancellationToken);
            }, cancellationToken);
        }
        catch (Exception e) when (e is DecryptionException or IOException)
        {
            Fail(item, e.Message);
            return;
        }

        var originalName = item.Kind == "file" ? original?.FileName : null;
        // Emails come without a batch manifest now, so their type is their kind's, and their note is found in them.
        var contentType = original?.ContentType ?? (item.Kind == "email" ? "message/rfc822" : null);
        var note = item.Kind == "email" ? await EmailNoteAsync(target, name, original?.Note, cancellationToken) : original?.Note;
        _written.Add(new PulledFile(
            name, originalName, item.Kind, item.Author, item.Batch, item.AddedAt, new FileInfo(target).Length, contentType, item.Id,
            $"{EncryptedFolder}/{item.File}", note));
        Console.WriteLine(ConsoleLine(name, originalName, note));
    }

    /// <summary>
    /// Whether the sender encrypted the email, found in it; else what an older submission's batch manifest said of it,
    /// when the gateway still judged that itself.
    /// </summary>
    private static async Task<string?> EmailNoteAsync(string email, string name, string? manifestNote, CancellationToken cancellationToken)
    {
        try
        {
            return await SenderEncryption.DetectAsync(email, cancellationToken) ?? manifestNote;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The email itself was written and stays listed: only the mark is missing, and opening the email shows it too.
            Failure.Report($"{name} was written, but could not be read again to see whether its sender encrypted it: {e.Message}");
            return manifestNote;
        }
    }

    private static string ConsoleLine(string name, string? originalName, string? note)
    {
        var remarks = new List<string>();
        if (originalName is not null && originalName != name)
        {
            remarks.Add($"sent as \"{TerminalText.Clean(originalName)}\"");
        }

        if (note is SenderEncryption.PgpMime or SenderEncryption.InlinePgp)
        {
            remarks.Add($"{note}: its content opens only with the key it was sent to");
        }
        else if (note is not null)
        {
            remarks.Add(TerminalText.Clean(note));
        }

        return remarks.Count == 0 ? $"  {name}" : $"  {name}  ({string.Join("; ", remarks)})";
    }

    private void Fail(ArchiveItem item, string reason, bool copied = true)
    {
        _failed.Add(new PulledFailure(item.Id, item.Kind, item.Batch, item.AddedAt, copied ? $"{EncryptedFolder}/{item.File}" : null, reason));
        Failure.Report($"item {TerminalText.Clean(item.Id)} ({TerminalText.Clean(item.Kind)}, added {Display.Minute(item.AddedAt)}) was not decrypted: {reason}");
    }

    private static JavaScriptEncoder ReadableEncoder()
    {
        // Characters outside the BMP are always escaped by the encoder; within it, the invisible ones are named here.
        var settings = new TextEncoderSettings(UnicodeRanges.All);
        for (var c = char.MinValue; c < char.MaxValue; c++)
        {
            if (!char.IsSurrogate(c) && TerminalText.IsInvisible(new Rune(c)))
            {
                settings.ForbidCharacter(c);
            }
        }

        return JavaScriptEncoder.Create(settings);
    }

    private string EncryptedPath(ArchiveItem item) => Path.Combine(_folder, EncryptedFolder, item.File);

    /// <summary>Holds a batch manifest in memory, refusing to grow past what a manifest can be.</summary>
    private sealed class BoundedBuffer(int limit) : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count)
        {
            EnsureRoom(count);
            base.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            EnsureRoom(buffer.Length);
            base.Write(buffer);
        }

        public override void WriteByte(byte value)
        {
            EnsureRoom(1);
            base.WriteByte(value);
        }

        private void EnsureRoom(int count)
        {
            if (Length + count > limit)
            {
                throw new DecryptionException($"it decrypts to more than the {limit} bytes a batch manifest can be");
            }
        }
    }
}
