using System.IO.Compression;
using System.Text.Json;
using SecureIntake.Contracts;
using SecureIntake.Core.Blobs;

namespace SecureIntake.Core.Triage;

/// <summary>
/// A whole submission as one zip of its encrypted items exactly as stored (`ITEMID.gpg`, which stock GnuPG
/// or Sequoia decrypt) and a plaintext `manifest.json` of metadata only: the original file names are inside
/// the encrypted batch manifests, never in the archive's clear text.
/// </summary>
public sealed class SubmissionArchive(BlobStore blobs)
{
    public static string ItemFileName(Guid item) => $"{item:D}.gpg";

    /// <summary>Streams the zip to <paramref name="output"/>, which need not be seekable (an HTTP response).</summary>
    public async Task WriteAsync(SubmissionDetails submission, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(submission);
        await using var buffered = new SyncWriteBuffer(output);
        var archive = await ZipArchive.CreateAsync(buffered, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, cancellationToken).ConfigureAwait(false);
        await using (archive.ConfigureAwait(false))
        {
            var manifest = archive.CreateEntry("manifest.json", CompressionLevel.Optimal);
            var entry = await manifest.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (entry.ConfigureAwait(false))
            {
                await JsonSerializer.SerializeAsync(entry, Manifest(submission), ContractJson.Default.ArchiveManifest, cancellationToken).ConfigureAwait(false);
            }

            foreach (var item in submission.Items)
            {
                // Ciphertext does not compress; storing it keeps the archive's bytes the item's bytes.
                var itemEntry = archive.CreateEntry(ItemFileName(item.Id), CompressionLevel.NoCompression);
                itemEntry.LastWriteTime = BlobStore.FixedModificationTime;
                var destination = await itemEntry.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using (destination.ConfigureAwait(false))
                {
                    var source = blobs.OpenRead(item.BlobId);
                    await using (source.ConfigureAwait(false))
                    {
                        await source.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }

        // The central directory was written synchronously, into the buffer, when the archive was disposed.
        await buffered.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static ArchiveManifest Manifest(SubmissionDetails submission) => new(
        ArchiveManifest.CurrentVersion,
        submission.Row.Id,
        submission.Row.Desk,
        submission.Row.Channel,
        submission.Row.ReceivedAt,
        submission.Items.Select(i => new ArchiveItem(ItemFileName(i.Id), $"{i.Id:D}", $"{i.BatchId:D}", i.Kind, i.Author, i.AddedAt, i.CiphertextBytes)).ToList());
}
