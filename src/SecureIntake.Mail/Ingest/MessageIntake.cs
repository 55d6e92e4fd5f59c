using System.Buffers;
using System.Security.Cryptography;
using MimeKit;
using SecureIntake.Core.Intake;

namespace SecureIntake.Mail.Ingest;

/// <summary>What became of one raw email.</summary>
public enum IngestOutcome
{
    /// <summary>Committed as a new submission.</summary>
    Committed,

    /// <summary>The same bytes were already taken in and are waiting to be removed from the server.</summary>
    AlreadyTakenIn,
}

/// <summary>
/// One raw email (RFC 5322 bytes, headers included) into a new mail submission: streamed through OpenPGP
/// encryption into a blob as it is read, never parsed into plaintext anywhere; only its header block, within its
/// first 64 KiB, is read in memory, for whom an acknowledgement would go to. The email is the submission's one
/// item, with no manifest: whether its sender already encrypted it, the editors' tool tells once it decrypted it.
/// Shared by the IMAP gateway and the MTA pipe.
/// </summary>
public sealed class MessageIntake(IntakeService intake, MailKeys keys)
{
    private const int InspectedBytes = 64 * 1024;

    /// <param name="maxBytes">Mail:MaxMessageBytes: a longer message is still stored whole, and reported as over the limit.</param>
    /// <param name="isTakenIn">Asked with the message's digest (an HMAC, see <see cref="MailKeys.DigestKey"/>) before committing: true means a copy is already in.</param>
    /// <param name="origin">The mailbox position to record with the submission, given the digest; null for the pipe.</param>
    public async Task<IngestResult> IngestAsync(Stream raw, string desk, long maxBytes,
        Func<byte[], Task<bool>>? isTakenIn, Func<byte[], MailOrigin>? origin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(raw);
        using var start = await MessageStart.ReadAsync(raw, cancellationToken).ConfigureAwait(false);
        await using var draft = await intake.StartAsync(desk, "mail", cancellationToken).ConfigureAwait(false);
        // Keyed: a plain hash in the ledger would let anyone holding a copy of an email confirm it arrived here. The pipe
        // keeps no ledger row, and so needs no key.
        using var hash = isTakenIn is null && origin is null
            ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256)
            : IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, keys.DigestKey);
        var (sender, overSizeLimit) = await WriteAsync(draft, start, raw, hash, maxBytes, cancellationToken).ConfigureAwait(false);

        var digest = hash.GetHashAndReset();
        if (isTakenIn is not null && await isTakenIn(digest).ConfigureAwait(false))
        {
            return new IngestResult(IngestOutcome.AlreadyTakenIn, null, null, overSizeLimit); // disposing the draft deletes what it wrote
        }

        if (origin is not null)
        {
            draft.SetMailOrigin(origin(digest));
        }

        return new IngestResult(IngestOutcome.Committed, await draft.CommitAsync(cancellationToken).ConfigureAwait(false), sender, overSizeLimit);
    }

    /// <summary>
    /// One raw email into a new submission of <paramref name="batch"/>: encrypted into its blob as it is read, exactly as
    /// <see cref="IngestAsync"/> does, but committed later with the whole batch. On failure nothing of it stays in the
    /// batch. Several may run at once on one batch.
    /// </summary>
    /// <exception cref="MessageRefusedException">The message is empty.</exception>
    public async Task<BatchedMessage> AddToBatchAsync(Stream raw, IntakeBatch batch, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(batch);
        using var start = await MessageStart.ReadAsync(raw, cancellationToken).ConfigureAwait(false);
        var draft = batch.Start();
        try
        {
            using var hash = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, keys.DigestKey);
            var (sender, overSizeLimit) = await WriteAsync(draft, start, raw, hash, maxBytes, cancellationToken).ConfigureAwait(false);
            return new BatchedMessage(draft, hash.GetHashAndReset(), sender, overSizeLimit);
        }
        catch
        {
            await batch.DiscardAsync(draft).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The whole message into the draft's email item, hashed on the way; returns who an acknowledgement would go to, read
    /// from the headers at the start, in memory.
    /// </summary>
    private static async Task<(string? Sender, bool OverSizeLimit)> WriteAsync(SubmissionDraft draft, MessageStart start, Stream raw,
        IncrementalHash hash, long maxBytes, CancellationToken cancellationToken)
    {
        var headers = start.ReadHeaders();
        var content = new CountingStream(new ConcatenatedStream(start.Bytes, raw), hash);
        await draft.AddAsync(ItemKind.Email, null, "message/rfc822", content, cancellationToken).ConfigureAwait(false);
        return (AcknowledgementGuard.Addressee(headers), content.Position > maxBytes);
    }

    /// <summary>The first bytes of a message, read for inspection into pooled memory that is zeroed when given back.</summary>
    private sealed class MessageStart : IDisposable
    {
        private byte[] _buffer;
        private readonly int _length;

        private MessageStart(byte[] buffer, int length)
        {
            _buffer = buffer;
            _length = length;
        }

        public ReadOnlyMemory<byte> Bytes => _buffer.AsMemory(0, _length);

        /// <exception cref="MessageRefusedException">The message is empty.</exception>
        public static async Task<MessageStart> ReadAsync(Stream raw, CancellationToken cancellationToken)
        {
            // Disposed on every way out; a success hands its buffer on first, a failure zeroes whatever the read left in it.
            var start = new MessageStart(ArrayPool<byte>.Shared.Rent(InspectedBytes), 0);
            try
            {
                var length = await raw.ReadAtLeastAsync(start._buffer.AsMemory(0, InspectedBytes), InspectedBytes, throwOnEndOfStream: false, cancellationToken)
                    .ConfigureAwait(false);
                return length == 0 ? throw new MessageRefusedException("the message is empty") : new MessageStart(start.TakeBuffer(), length);
            }
            finally
            {
                start.Dispose();
            }
        }

        /// <summary>The headers as MimeKit reads them, or null when they are malformed (the message is still kept raw).</summary>
        public HeaderList? ReadHeaders()
        {
            try
            {
                // Only the header block is handed to the parser (up to the first empty line, CRLF or bare LF), not the body after it.
                var bytes = _buffer.AsSpan(0, _length);
                var end = bytes.IndexOf("\n\r\n"u8) is var crlf and >= 0 ? crlf + 3 : _length;
                end = Math.Min(end, bytes.IndexOf("\n\n"u8) is var lf and >= 0 ? lf + 2 : _length);
                using var stream = new MemoryStream(_buffer, 0, end, writable: false);
                return HeaderList.Load(stream);
            }
            catch (FormatException)
            {
                return null;
            }
        }

        private byte[] TakeBuffer()
        {
            var buffer = _buffer;
            _buffer = [];
            return buffer;
        }

        public void Dispose()
        {
            if (_buffer.Length == 0)
            {
                return;
            }

            // A start that was read holds plaintext only as far as its length; one whose read failed may hold any of it.
            CryptographicOperations.ZeroMemory(_buffer.AsSpan(0, _length > 0 ? _length : InspectedBytes));
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    /// <summary>Hashes and counts what passes through.</summary>
    private sealed class CountingStream(Stream inner, IncrementalHash hash) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            _read += read;
            hash.AppendData(buffer.Span[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>The bytes already read for inspection, then the rest of the stream.</summary>
    private sealed class ConcatenatedStream(ReadOnlyMemory<byte> first, Stream rest) : Stream
    {
        private ReadOnlyMemory<byte> _first = first;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_first.IsEmpty)
            {
                return rest.ReadAsync(buffer, cancellationToken);
            }

            var take = Math.Min(buffer.Length, _first.Length);
            _first[..take].CopyTo(buffer);
            _first = _first[take..];
            return ValueTask.FromResult(take);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>
/// What became of a message; the sender's address only in memory, for an acknowledgement. A message over the
/// size limit is stored all the same (refusing it would bounce it, and a bounce carries the plaintext back);
/// <paramref name="OverSizeLimit"/> tells the caller to mark it on the desk.
/// </summary>
public sealed record IngestResult(IngestOutcome Outcome, Guid? SubmissionId, string? Sender, bool OverSizeLimit = false);

/// <summary>
/// A message encrypted into a submission of a batch, not yet committed: its digest (an HMAC) to find copies with, and
/// the sender's address only in memory, for an acknowledgement after the commit.
/// </summary>
public sealed record BatchedMessage(SubmissionDraft Draft, byte[] Digest, string? Sender, bool OverSizeLimit);

/// <summary>Input that is not a message at all (empty): a permanent refusal, not a failure.</summary>
public sealed class MessageRefusedException(string message) : Exception(message);
