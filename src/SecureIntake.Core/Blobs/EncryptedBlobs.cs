using System.Buffers;
using System.Security.Cryptography;
using SecureIntake.Core.Intake;
using SecureIntake.Crypto.Encryption;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Core.Blobs;

/// <summary>A blob that holds one whole OpenPGP message and is durable on disk.</summary>
public sealed record SealedBlob(Guid Id, long PlaintextBytes, long CiphertextBytes);

public static class EncryptedBlobs
{
    private const int CopyBufferBytes = 1 << 16;

    /// <summary>
    /// Streams <paramref name="content"/> through OpenPGP encryption to <paramref name="recipients"/> into a new
    /// blob and seals it. On any failure the partial blob is deleted again: nothing is left half-written.
    /// </summary>
    /// <exception cref="IntakeRefusedException">The disk reached Storage:MinimumFreeBytes on the way (<see cref="IntakeRefusal.NoRoom"/>).</exception>
    public static async Task<SealedBlob> WriteEncryptedAsync(this BlobStore blobs, IReadOnlyCollection<RecipientKey> recipients, Stream content,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        await using var blob = blobs.Create();
        return await blob.WriteEncryptedAsync(recipients, content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Streams <paramref name="content"/> through OpenPGP encryption into this blob and seals it. The caller
    /// disposes the blob, which deletes it when this failed.
    /// </summary>
    /// <exception cref="IntakeRefusedException">The disk reached Storage:MinimumFreeBytes on the way (<see cref="IntakeRefusal.NoRoom"/>).</exception>
    public static async Task<SealedBlob> WriteEncryptedAsync(this PendingBlob blob, IReadOnlyCollection<RecipientKey> recipients, Stream content,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(content);
        try
        {
            long plaintextBytes = 0;
            var used = CopyBufferBytes; // until the reads are over: a read that failed may have filled any of it
            // Plaintext passes through this buffer: pooled, and zeroed before it goes back.
            var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
            try
            {
                var filled = 0;
                await using var encrypting = await OpenPgpEncryptingStream.OpenAsync(blob.Content, recipients, cancellationToken).ConfigureAwait(false);
                int read;
                while ((read = await content.ReadAsync(buffer.AsMemory(0, CopyBufferBytes), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await encrypting.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    plaintextBytes += read;
                    filled = Math.Max(filled, read);
                }

                used = filled;

                await encrypting.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // As far as a read ever filled it: a short item leaves the rest as the pool handed it out.
                CryptographicOperations.ZeroMemory(buffer.AsSpan(0, used));
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return new SealedBlob(blob.Id, plaintextBytes, await blob.SealAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (NoDiskRoomException e)
        {
            throw new IntakeRefusedException(IntakeRefusal.NoRoom, e.Message);
        }
    }
}
