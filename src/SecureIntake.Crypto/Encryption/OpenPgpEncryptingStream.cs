using System.Buffers;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Prng;
using Org.BouncyCastle.Security;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Crypto.Encryption;

/// <summary>
/// A write-only stream that turns plaintext into one OpenPGP message for many recipients: one AES-256
/// session key, a public-key packet per recipient, then a SEIPD v1 packet (CFB with an MDC, what GnuPG
/// 2.2/2.4 and Sequoia read) holding one uncompressed literal packet. Both packets use partial body
/// lengths, so the size is never needed up front and memory stays constant.
///
/// AES (see <see cref="CfbEncryptor"/>) and SHA-1 run in native code, several times faster than
/// BouncyCastle's managed engines: that is where the time goes on large files.
///
/// The message is only complete after <see cref="CompleteAsync"/>. Disposing without completing leaves
/// a truncated message that every decryptor refuses, so a failure half-way can never pass for a whole
/// (shorter) submission.
/// </summary>
public sealed class OpenPgpEncryptingStream : Stream
{
    private const int SessionKeyBytes = 32;
    private const int BlockBytes = 16;
    private const int ChunkSize = PacketFraming.PartialChunkSize;
    private const int Sha1Bytes = 20;

    // Literal packet body: format 'b', empty file name, zero date, then the data.
    private static readonly byte[] LiteralBodyStart = [(byte)'b', 0, 0, 0, 0, 0];

    private readonly Stream _output;
    private readonly CfbEncryptor _cipher;
    private readonly IncrementalHash _mdc = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);

    // The buffers come from the shared pool: a mail batch opens two of these streams a message, and allocating them
    // new (large-object heap, zeroed) cost a sixth of the gateway's encryption time. The two holding plaintext are
    // zeroed before they go back.

    // Literal packet body waiting to be framed into a chunk.
    private byte[] _literal = ArrayPool<byte>.Shared.Rent(ChunkSize);
    private int _literalCount;

    // Plaintext of the encrypted packet (prefix, framed literal packet, MDC) waiting for a whole chunk.
    private byte[] _inner = ArrayPool<byte>.Shared.Rent((2 * ChunkSize) + 64);

    // How far plaintext ever reached in _literal and _inner, so that disposing zeroes that much and no more.
    private int _literalUsed = LiteralBodyStart.Length;
    private int _innerUsed;
    private int _innerCount;

    // SEIPD packet body ready for output: [chunk header][version octet, ciphertext...]; a spare one is being written.
    private byte[] _outer = ArrayPool<byte>.Shared.Rent(8 + (2 * ChunkSize));
    private byte[] _spare = ArrayPool<byte>.Shared.Rent(8 + (2 * ChunkSize));
    private int _outerCount;
    private Task _pendingWrite = Task.CompletedTask;

    // Once the MDC value is in _inner, what is left to encrypt is no longer hashed.
    private bool _mdcWritten;

    private bool _completed;
    private bool _disposed;

    private OpenPgpEncryptingStream(Stream output, CfbEncryptor cipher, SecureRandom random)
    {
        _output = output;
        _cipher = cipher;

        // Inner plaintext starts with the random prefix, its last two octets repeated (RFC 4880 5.13).
        Span<byte> prefix = stackalloc byte[BlockBytes + 2];
        random.NextBytes(prefix[..BlockBytes]);
        prefix[BlockBytes] = prefix[BlockBytes - 2];
        prefix[BlockBytes + 1] = prefix[BlockBytes - 1];
        AppendInner(prefix);
        AppendInner([PacketFraming.TagByte(PacketFraming.LiteralDataTag)]);

        LiteralBodyStart.CopyTo(_literal, 0);
        _literalCount = LiteralBodyStart.Length;

        _outer[1] = 1; // SEIPD version
        _outerCount = 1;
    }

    /// <summary>Writes the session key packets and returns the stream to write plaintext into.</summary>
    public static Task<OpenPgpEncryptingStream> OpenAsync(Stream output, IReadOnlyCollection<RecipientKey> recipients, CancellationToken cancellationToken) =>
        OpenAsync(output, recipients, key => CfbEncryptor.Create(key), cancellationToken);

    internal static async Task<OpenPgpEncryptingStream> OpenAsync(Stream output, IReadOnlyCollection<RecipientKey> recipients,
        Func<byte[], CfbEncryptor> createCipher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(recipients);
        if (recipients.Count == 0)
        {
            throw new ArgumentException("at least one recipient is needed", nameof(recipients));
        }

        // The operating system's generator, as for the session key: BouncyCastle's default seeds a digest generator from
        // one process-wide master under a lock, which every item of a mail batch encrypting on several cores queued on.
        var random = new SecureRandom(new CryptoApiRandomGenerator());
        var sessionKey = new byte[SessionKeyBytes];
        RandomNumberGenerator.Fill(sessionKey);
        try
        {
            foreach (var recipient in recipients)
            {
                await output.WriteAsync(SessionKeyPackets.For(recipient, sessionKey, random), cancellationToken).ConfigureAwait(false);
            }

            await output.WriteAsync(new[] { PacketFraming.TagByte(PacketFraming.SymmetricallyEncryptedIntegrityProtectedTag) }, cancellationToken).ConfigureAwait(false);
            return new OpenPgpEncryptingStream(output, createCipher(sessionKey), random);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sessionKey);
        }
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_disposed && !_completed;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        EnsureWritable();
        while (!buffer.IsEmpty)
        {
            buffer = Fill(buffer);
            while (TakeOutputChunk() is { } chunk)
            {
                _pendingWrite.GetAwaiter().GetResult();
                _output.Write(_outer, 0, chunk);
                _pendingWrite = Task.CompletedTask;
                KeepRemainder(chunk);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        EnsureWritable();
        while (!buffer.IsEmpty)
        {
            var rest = Fill(buffer.Span);
            buffer = buffer[^rest.Length..];
            while (TakeOutputChunk() is { } chunk)
            {
                await StartWritingAsync(chunk, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes the last literal chunk, the MDC and the last ciphertext; only now is the message whole.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        EnsureWritable();
        AppendFinalPackets();
        while (TakeOutputChunk() is { } chunk)
        {
            await StartWritingAsync(chunk, cancellationToken).ConfigureAwait(false);
        }

        var last = FrameLastChunk();
        await _pendingWrite.ConfigureAwait(false);
        await _output.WriteAsync(_outer.AsMemory(last.Start, last.Length), cancellationToken).ConfigureAwait(false);
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        _completed = true;
    }

    public override void Flush()
    {
        // Nothing to flush early: data leaves in whole chunks, and the end only with CompleteAsync.
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            // The buffers may not be reused or cleared while the output still reads from one of them.
            try
            {
                _pendingWrite.GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The owner is abandoning the message anyway; the failed write already left it unusable.
            }

            // Only as far as plaintext ever reached: a short message leaves most of each buffer as the pool handed it out.
            CryptographicOperations.ZeroMemory(_literal.AsSpan(0, _literalUsed));
            CryptographicOperations.ZeroMemory(_inner.AsSpan(0, _innerUsed));
            foreach (var buffer in new[] { _literal, _inner, _outer, _spare })
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            (_literal, _inner, _outer, _spare) = ([], [], [], []);
            _cipher.Dispose();
            _mdc.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Takes plaintext into the literal buffer, framing a full chunk first when more data follows it.</summary>
    private ReadOnlySpan<byte> Fill(ReadOnlySpan<byte> buffer)
    {
        if (_literalCount == ChunkSize)
        {
            AppendInner([PacketFraming.PartialChunkHeader]);
            AppendInner(_literal.AsSpan(0, ChunkSize));
            _literalCount = 0;
        }

        var take = Math.Min(ChunkSize - _literalCount, buffer.Length);
        buffer[..take].CopyTo(_literal.AsSpan(_literalCount));
        _literalCount += take;
        _literalUsed = Math.Max(_literalUsed, _literalCount);
        return buffer[take..];
    }

    private void AppendFinalPackets()
    {
        Span<byte> lengthHeader = stackalloc byte[5];
        AppendInner(lengthHeader[..PacketFraming.WriteLength(lengthHeader, _literalCount)]);
        AppendInner(_literal.AsSpan(0, _literalCount));
        _literalCount = 0;

        AppendInner([PacketFraming.TagByte(PacketFraming.ModificationDetectionCodeTag), Sha1Bytes]);

        // The MDC covers everything so far, its own two header octets included; the value itself is encrypted but not hashed.
        _mdc.AppendData(_inner.AsSpan(0, _innerCount));
        _mdc.GetHashAndReset(_inner.AsSpan(_innerCount, Sha1Bytes));
        _innerCount += Sha1Bytes;
        _mdcWritten = true;
    }

    /// <summary>Encrypts what is left and puts its definite length right before it; returns where that run starts.</summary>
    private (int Start, int Length) FrameLastChunk()
    {
        EncryptInto(_innerCount);
        Span<byte> lengthHeader = stackalloc byte[5];
        var headerLength = PacketFraming.WriteLength(lengthHeader, _outerCount);
        // The header must sit right before the body, which starts at index 1: move the body if the header is longer.
        _outer.AsSpan(1, _outerCount).CopyTo(_outer.AsSpan(headerLength));
        lengthHeader[..headerLength].CopyTo(_outer);
        return (0, headerLength + _outerCount);
    }

    private void AppendInner(ReadOnlySpan<byte> data)
    {
        data.CopyTo(_inner.AsSpan(_innerCount));
        _innerCount += data.Length;
        _innerUsed = Math.Max(_innerUsed, _innerCount);
    }

    /// <summary>
    /// Encrypts whole chunks of inner plaintext into the outer buffer; when the outer buffer holds a
    /// full partial-body chunk, frames it and returns its length in <see cref="_outer"/>.
    /// </summary>
    private int? TakeOutputChunk()
    {
        if (_outerCount < ChunkSize && _innerCount >= ChunkSize)
        {
            EncryptInto(ChunkSize);
        }

        if (_outerCount < ChunkSize)
        {
            return null;
        }

        // More always follows (at the least the MDC), so a full chunk can go out as a partial one.
        _outer[0] = PacketFraming.PartialChunkHeader;
        return 1 + ChunkSize;
    }

    /// <summary>
    /// Starts writing a framed chunk and goes on encrypting into the other buffer meanwhile, so output I/O
    /// overlaps the cipher work; at most one write is in flight.
    /// </summary>
    private async ValueTask StartWritingAsync(int chunk, CancellationToken cancellationToken)
    {
        await _pendingWrite.ConfigureAwait(false);
        var full = _outer;
        (_outer, _spare) = (_spare, _outer);
        _outerCount = CarryRemainder(full, chunk);
        _pendingWrite = _output.WriteAsync(full.AsMemory(0, chunk), cancellationToken).AsTask();
    }

    private void KeepRemainder(int written) => _outerCount = CarryRemainder(_outer, written);

    /// <summary>Moves what follows a written chunk to the start of the current outer buffer's body.</summary>
    private int CarryRemainder(byte[] from, int written)
    {
        var remaining = _outerCount + 1 - written;
        from.AsSpan(written, remaining).CopyTo(_outer.AsSpan(1));
        return remaining;
    }

    /// <summary>
    /// Encrypts the front of the inner buffer into the outer one, hashing it for the MDC on the way. (Hashing
    /// on a second core per chunk was tried: the thread hand-offs cost more CPU than the hash itself.)
    /// </summary>
    private void EncryptInto(int plaintextBytes)
    {
        if (plaintextBytes == 0)
        {
            return;
        }

        if (!_mdcWritten)
        {
            _mdc.AppendData(_inner.AsSpan(0, plaintextBytes));
        }

        Encrypt(plaintextBytes);
        _outerCount += plaintextBytes;
        _inner.AsSpan(plaintextBytes, _innerCount - plaintextBytes).CopyTo(_inner);
        _innerCount -= plaintextBytes;
    }

    private void Encrypt(int plaintextBytes) =>
        _cipher.Encrypt(_inner.AsSpan(0, plaintextBytes), _outer.AsSpan(1 + _outerCount, plaintextBytes));

    private void EnsureWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed)
        {
            throw new InvalidOperationException("the OpenPGP message is already complete");
        }
    }
}
