using System.Security.Cryptography;
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
/// encryption into a blob as it is read, never parsed into plaintext anywhere; only its first 64 KiB are
/// looked at, in memory, to note whether the sender already encrypted it. Shared by the IMAP gateway and
/// the MTA pipe.
/// </summary>
public sealed class MessageIntake(IntakeService intake)
{
    private const int InspectedBytes = 64 * 1024;

    /// <param name="isTakenIn">Asked with the message's SHA-256 before committing: true means a copy is already in.</param>
    /// <param name="origin">The mailbox position to record with the submission, given the digest; null for the pipe.</param>
    public async Task<IngestResult> IngestAsync(Stream raw, string desk, long maxBytes,
        Func<byte[], Task<bool>>? isTakenIn, Func<byte[], MailOrigin>? origin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var start = new byte[InspectedBytes];
        var startLength = await raw.ReadAtLeastAsync(start, start.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (startLength == 0)
        {
            throw new MessageRefusedException("the message is empty");
        }

        await using var draft = await intake.StartAsync(desk, "mail", cancellationToken).ConfigureAwait(false);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var content = new CountingStream(new ConcatenatedStream(start.AsMemory(0, startLength), raw), hash, maxBytes);
        await draft.AddAsync(ItemKind.Email, null, "message/rfc822", content, cancellationToken, SenderEncryption.Detect(start.AsSpan(0, startLength)))
            .ConfigureAwait(false);
        var sender = SenderAddress(start.AsSpan(0, startLength));
        CryptographicOperations.ZeroMemory(start);

        var digest = hash.GetHashAndReset();
        if (isTakenIn is not null && await isTakenIn(digest).ConfigureAwait(false))
        {
            return new IngestResult(IngestOutcome.AlreadyTakenIn, null, null); // disposing the draft deletes what it wrote
        }

        if (origin is not null)
        {
            draft.SetMailOrigin(origin(digest));
        }

        return new IngestResult(IngestOutcome.Committed, await draft.CommitAsync(cancellationToken).ConfigureAwait(false), sender);
    }

    /// <summary>The From (or Reply-To) address, kept in memory only for an acknowledgement, if one is turned on.</summary>
    private static string? SenderAddress(ReadOnlySpan<byte> start)
    {
        try
        {
            using var stream = new MemoryStream(start.ToArray(), writable: false);
            var headers = MimeKit.HeaderList.Load(stream);
            var value = headers[MimeKit.HeaderId.ReplyTo] ?? headers[MimeKit.HeaderId.From];
            return value is not null && MimeKit.InternetAddressList.TryParse(value, out var list)
                ? list.Mailboxes.FirstOrDefault()?.Address
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>Hashes what passes through and refuses to read past the size limit.</summary>
    private sealed class CountingStream(Stream inner, IncrementalHash hash, long maxBytes) : Stream
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
            if (_read > maxBytes)
            {
                throw new MessageRefusedException($"the message is larger than {maxBytes} bytes");
            }

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

/// <summary>What became of a message; the sender's address only in memory, for an acknowledgement.</summary>
public sealed record IngestResult(IngestOutcome Outcome, Guid? SubmissionId, string? Sender);

/// <summary>Input that is not a message we can take in (empty, too large): a permanent refusal, not a failure.</summary>
public sealed class MessageRefusedException(string message) : Exception(message);
