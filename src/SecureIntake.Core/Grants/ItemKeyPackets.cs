using Microsoft.Extensions.Logging;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Storage;
using SecureIntake.Core.Triage;
using SecureIntake.Crypto.Grants;

namespace SecureIntake.Core.Grants;

/// <summary>Why a grant or revoke changed nothing.</summary>
public enum GrantRefusal
{
    /// <summary>No such item in that submission.</summary>
    NotFound,

    /// <summary>The uploaded bytes are not well-formed key packets, or name a key that already has one.</summary>
    BadPackets,

    /// <summary>The key to revoke has no packet in the item.</summary>
    NoSuchKey,

    /// <summary>Revoking would leave nobody able to read the item.</summary>
    LastKey,

    /// <summary>The stored item does not start with key packets we can read: it is left as it is.</summary>
    DamagedItem,

    /// <summary>The disk has no room for the rewritten copy.</summary>
    NoRoom,
}

public sealed class GrantRefusedException(GrantRefusal refusal, string message) : Exception(message)
{
    public GrantRefusal Refusal { get; } = refusal;
}

/// <summary>The key packets of one stored item.</summary>
public sealed record ItemKeys(Guid ItemId, IReadOnlyList<KeyPacket> Packets);

/// <summary>Where <see cref="ItemKeyPackets"/> stands in a rewrite, for tests that inject a crash there.</summary>
internal enum RewriteStep
{
    /// <summary>The new blob is durable; the row still names the old one.</summary>
    NewBlobDurable,

    /// <summary>The row names the new blob; the old one is still on disk.</summary>
    Switched,
}

/// <summary>Thrown by a test's hook to stop a rewrite the way a crash would: no clean-up runs.</summary>
internal sealed class SimulatedCrashException() : Exception("simulated crash");

/// <summary>
/// Adds key packets to stored items, or drops one, without the content ever being decrypted (the server cannot):
/// the new packets come from an editor's machine (<see cref="SessionKeyGrant"/>). An item is rewritten as a new
/// blob, the old key packets and then the new ones before the unchanged rest, made durable, and switched to in one
/// transaction; the old blob is removed after. A crash before the switch leaves the old item whole and the new blob
/// an orphan; a crash after it leaves the old blob an orphan; the orphan sweep removes either.
/// </summary>
public sealed partial class ItemKeyPackets(NpgsqlDataSource dataSource, BlobStore blobs, ILogger<ItemKeyPackets> logger)
{
    private const int CopyBufferBytes = 1 << 16;

    internal Func<RewriteStep, Task>? Hook { get; set; }

    /// <summary>The key packets of every item of a submission, in the order the desk lists them.</summary>
    public async Task<IReadOnlyList<ItemKeys>> ReadAsync(Guid submissionId, CancellationToken cancellationToken)
    {
        var items = await dataSource.QueryAsync<StoredItem>("""
            SELECT id AS Id, COALESCE(blob_id, id) AS BlobId, ciphertext_bytes AS CiphertextBytes FROM submission_items
            WHERE submission_id = @Id ORDER BY added_at, batch_id, kind = 'manifest', id
            """, new { Id = submissionId }, cancellationToken).ConfigureAwait(false);
        var result = new List<ItemKeys>(items.Count);
        foreach (var item in items)
        {
            var (packets, _) = await ReadLeadingAsync(item, cancellationToken).ConfigureAwait(false);
            result.Add(new ItemKeys(item.Id, packets));
        }

        return result;
    }

    /// <summary>
    /// The key packets of one item as the desk lists it, read from the front of its blob only (nothing is decrypted), or
    /// null when the blob is missing, shorter than its row says, unreadable or does not start with key packets: a page
    /// listing who can read a submission says so for that item instead of failing as a whole.
    /// </summary>
    public async Task<IReadOnlyList<KeyPacket>?> TryReadAsync(SubmissionItem item, CancellationToken cancellationToken)
    {
        try
        {
            var (packets, _) = await ReadLeadingAsync(new StoredItem(item.Id, item.BlobId, item.CiphertextBytes), cancellationToken).ConfigureAwait(false);
            return packets;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or GrantRefusedException)
        {
            LogUnreadable(logger, item.Id, e.Message);
            return null;
        }
    }

    /// <summary>Adds <paramref name="upload"/> (key packets and nothing else, each for a key not yet there) to the item.</summary>
    /// <returns>The key ids added.</returns>
    /// <exception cref="GrantRefusedException">Nothing was changed.</exception>
    public async Task<IReadOnlyList<long>> AddAsync(Guid submissionId, Guid itemId, ReadOnlyMemory<byte> upload, CancellationToken cancellationToken)
    {
        IReadOnlyList<KeyPacket> added;
        try
        {
            added = KeyPackets.ReadOnly(upload.Span);
        }
        catch (KeyPacketException e)
        {
            throw new GrantRefusedException(GrantRefusal.BadPackets, e.Message);
        }

        await RewriteAsync(submissionId, itemId, existing =>
        {
            if (added.FirstOrDefault(p => existing.Any(e => e.KeyId == p.KeyId)) is { } twice)
            {
                throw new GrantRefusedException(GrantRefusal.BadPackets, $"key {twice.KeyIdHex} can already read the item");
            }

            if (existing.Count + added.Count > KeyPackets.MaximumPackets)
            {
                throw new GrantRefusedException(GrantRefusal.BadPackets, $"an item may have at most {KeyPackets.MaximumPackets} key packets");
            }

            return [.. existing, .. added];
        }, cancellationToken).ConfigureAwait(false);
        LogGranted(logger, itemId, added.Count);
        return [.. added.Select(p => p.KeyId)];
    }

    /// <summary>Drops the key packet for <paramref name="keyId"/>; the last one is never dropped.</summary>
    /// <exception cref="GrantRefusedException">Nothing was changed.</exception>
    public async Task RevokeAsync(Guid submissionId, Guid itemId, long keyId, CancellationToken cancellationToken)
    {
        await RewriteAsync(submissionId, itemId, existing =>
        {
            if (existing.All(p => p.KeyId != keyId))
            {
                throw new GrantRefusedException(GrantRefusal.NoSuchKey, $"key {KeyPackets.FormatKeyId(keyId)} has no packet in the item");
            }

            return existing.Count == 1
                ? throw new GrantRefusedException(GrantRefusal.LastKey, "that is the only key that can read the item; revoking it would leave nobody able to")
                : [.. existing.Where(p => p.KeyId != keyId)];
        }, cancellationToken).ConfigureAwait(false);
        LogRevoked(logger, itemId);
    }

    private async Task RewriteAsync(Guid submissionId, Guid itemId, Func<IReadOnlyList<KeyPacket>, IReadOnlyList<KeyPacket>> change,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // FOR UPDATE: one rewrite of an item at a time, and none while a backup (FOR KEY SHARE) copies the blobs.
        var item = await connection.QuerySingleOrDefaultAsync<StoredItem>("""
            SELECT id AS Id, COALESCE(blob_id, id) AS BlobId, ciphertext_bytes AS CiphertextBytes FROM submission_items
            WHERE id = @Item AND submission_id = @Submission FOR UPDATE
            """, new { Item = itemId, Submission = submissionId }, transaction, cancellationToken).ConfigureAwait(false)
            ?? throw new GrantRefusedException(GrantRefusal.NotFound, "there is no such item in the submission");

        var (existing, restOffset) = await ReadLeadingAsync(item, cancellationToken).ConfigureAwait(false);
        var packets = change(existing);

        var blob = blobs.Create();
        var committing = false;
        try
        {
            long written;
            try
            {
                foreach (var packet in packets)
                {
                    await blob.Content.WriteAsync(packet.Packet, cancellationToken).ConfigureAwait(false);
                }

                await using (var old = blobs.OpenRead(item.BlobId))
                {
                    old.Seek(restOffset, SeekOrigin.Begin);
                    var rest = await CopyAsync(old, blob.Content, cancellationToken).ConfigureAwait(false);
                    if (restOffset + rest != item.CiphertextBytes)
                    {
                        throw new InvalidOperationException($"item {itemId} is {restOffset + rest} bytes on disk, its row says {item.CiphertextBytes}");
                    }
                }

                written = await blob.SealAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (NoDiskRoomException e)
            {
                throw new GrantRefusedException(GrantRefusal.NoRoom, e.Message);
            }

            await StepAsync(RewriteStep.NewBlobDurable).ConfigureAwait(false);
            await connection.ExecuteAsync("UPDATE submission_items SET blob_id = @Blob, ciphertext_bytes = @Bytes WHERE id = @Item",
                new { Blob = blob.Id, Bytes = written, Item = itemId }, transaction, cancellationToken).ConfigureAwait(false);
            committing = true;
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not SimulatedCrashException && !committing)
        {
            // Certainly not switched: the new blob goes. A commit whose outcome is unknown leaves it to the orphan sweep,
            // which keeps it if the row does name it.
            await blob.DisposeAsync().ConfigureAwait(false);
            TryDelete(blob.Id);
            throw;
        }
        finally
        {
            // A sealed blob stays on disk: disposing only lets go of its lock.
            await blob.DisposeAsync().ConfigureAwait(false);
        }

        await StepAsync(RewriteStep.Switched).ConfigureAwait(false);
        TryDelete(item.BlobId);
    }

    private async Task<(IReadOnlyList<KeyPacket> Packets, int RestOffset)> ReadLeadingAsync(StoredItem item, CancellationToken cancellationToken)
    {
        var buffer = new byte[(int)Math.Min(item.CiphertextBytes, KeyPackets.MaximumLeadingBytes + 1)];
        await using (var stream = blobs.OpenRead(item.BlobId))
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var packets = KeyPackets.ReadLeading(buffer, out var restOffset);
            return (packets, restOffset);
        }
        catch (KeyPacketException e)
        {
            throw new GrantRefusedException(GrantRefusal.DamagedItem, $"item {item.Id} cannot be read: {e.Message}");
        }
    }

    private static async Task<long> CopyAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[CopyBufferBytes];
        long total = 0;
        int read;
        while ((read = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            total += read;
        }

        return total;
    }

    private Task StepAsync(RewriteStep step) => Hook?.Invoke(step) ?? Task.CompletedTask;

    private void TryDelete(Guid blobId)
    {
        try
        {
            blobs.Delete([blobId]);
        }
        catch (AggregateException)
        {
            // No row names it any more: the orphan sweep removes it later.
        }
    }

    private sealed record StoredItem(Guid Id, Guid BlobId, long CiphertextBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Item {Item} was given {Count} new key packets")]
    private static partial void LogGranted(ILogger logger, Guid item, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Item {Item} lost one key packet (revoked)")]
    private static partial void LogRevoked(ILogger logger, Guid item);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The key packets of item {Item} could not be read: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, Guid item, string reason);
}
