using System.Security.Cryptography;
using Org.BouncyCastle.Security;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Crypto.Encryption;

/// <summary>
/// A write-only stream that turns plaintext into one OpenPGP message for many recipients: one AES-256
/// session key, a public-key packet per recipient, then a SEIPD v1 packet (CFB with an MDC, what GnuPG
/// 2.2/2.4 and Sequoia read) holding one uncompressed literal packet. Both packets use partial body
/// lengths, so the size is never needed up front and memory stays constant.
///
/// AES and SHA-1 run through .NET's platform (OpenSSL) implementations: they are several times faster
/// than BouncyCastle's managed engines, which is where the time goes on large files.
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
    private readonly Aes _aes;
    private readonly IncrementalHash _mdc = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
    private readonly byte[] _iv = new byte[BlockBytes];

    // Literal packet body waiting to be framed into a chunk.
    private readonly byte[] _literal = new byte[ChunkSize];
    private int _literalCount;

    // Plaintext of the encrypted packet (prefix, framed literal packet, MDC) waiting for a whole chunk.
    private readonly byte[] _inner = new byte[(2 * ChunkSize) + 64];
    private int _innerCount;

    // SEIPD packet body ready for output: [chunk header][version octet, ciphertext...].
    private readonly byte[] _outer = new byte[8 + (2 * ChunkSize)];
    private int _outerCount;

    private bool _completed;
    private bool _disposed;

    private OpenPgpEncryptingStream(Stream output, byte[] sessionKey, SecureRandom random)
    {
        _output = output;
        _aes = Aes.Create();
        _aes.Key = sessionKey;

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
    public static async Task<OpenPgpEncryptingStream> OpenAsync(Stream output, IReadOnlyCollection<RecipientKey> recipients, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(recipients);
        if (recipients.Count == 0)
        {
            throw new ArgumentException("at least one recipient is needed", nameof(recipients));
        }

        var random = new SecureRandom();
        var sessionKey = new byte[SessionKeyBytes];
        RandomNumberGenerator.Fill(sessionKey);
        try
        {
            foreach (var recipient in recipients)
            {
                await output.WriteAsync(SessionKeyPackets.For(recipient, sessionKey, random), cancellationToken).ConfigureAwait(false);
            }

            await output.WriteAsync(new[] { PacketFraming.TagByte(PacketFraming.SymmetricallyEncryptedIntegrityProtectedTag) }, cancellationToken).ConfigureAwait(false);
            return new OpenPgpEncryptingStream(output, sessionKey, random);
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
                _output.Write(_outer, 0, chunk);
                ShiftOuter(chunk);
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
                await _output.WriteAsync(_outer.AsMemory(0, chunk), cancellationToken).ConfigureAwait(false);
                ShiftOuter(chunk);
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
            await _output.WriteAsync(_outer.AsMemory(0, chunk), cancellationToken).ConfigureAwait(false);
            ShiftOuter(chunk);
        }

        var last = FrameLastChunk();
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
            CryptographicOperations.ZeroMemory(_literal);
            CryptographicOperations.ZeroMemory(_inner);
            _aes.Dispose();
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
            AppendInner(_literal);
            _literalCount = 0;
        }

        var take = Math.Min(ChunkSize - _literalCount, buffer.Length);
        buffer[..take].CopyTo(_literal.AsSpan(_literalCount));
        _literalCount += take;
        return buffer[take..];
    }

    private void AppendFinalPackets()
    {
        Span<byte> lengthHeader = stackalloc byte[5];
        AppendInner(lengthHeader[..PacketFraming.WriteLength(lengthHeader, _literalCount)]);
        AppendInner(_literal.AsSpan(0, _literalCount));
        _literalCount = 0;

        AppendInner([PacketFraming.TagByte(PacketFraming.ModificationDetectionCodeTag), Sha1Bytes]);
        // The MDC value itself is encrypted but not hashed.
        _mdc.GetHashAndReset(_inner.AsSpan(_innerCount, Sha1Bytes));
        _innerCount += Sha1Bytes;
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
        _mdc.AppendData(data);
        data.CopyTo(_inner.AsSpan(_innerCount));
        _innerCount += data.Length;
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

    private void ShiftOuter(int written)
    {
        var remaining = _outerCount + 1 - written;
        _outer.AsSpan(written, remaining).CopyTo(_outer.AsSpan(1));
        _outerCount = remaining;
    }

    /// <summary>CFB-128 with a zero IV, continued across calls by carrying the last ciphertext block.</summary>
    private void EncryptInto(int plaintextBytes)
    {
        if (plaintextBytes == 0)
        {
            return;
        }

        var whole = plaintextBytes / BlockBytes * BlockBytes;
        var destination = _outer.AsSpan(1 + _outerCount);
        if (whole > 0)
        {
            _aes.EncryptCfb(_inner.AsSpan(0, whole), _iv, destination, PaddingMode.None, 128);
            destination.Slice(whole - BlockBytes, BlockBytes).CopyTo(_iv);
        }

        var tail = plaintextBytes - whole;
        if (tail > 0)
        {
            // Only ever at the very end: CFB output for a short last block is the prefix of a padded one.
            Span<byte> block = stackalloc byte[BlockBytes];
            Span<byte> cipher = stackalloc byte[BlockBytes];
            _inner.AsSpan(whole, tail).CopyTo(block);
            _aes.EncryptCfb(block, _iv, cipher, PaddingMode.None, 128);
            cipher[..tail].CopyTo(destination[whole..]);
        }

        _outerCount += plaintextBytes;
        _inner.AsSpan(plaintextBytes, _innerCount - plaintextBytes).CopyTo(_inner);
        _innerCount -= plaintextBytes;
    }

    private void EnsureWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed)
        {
            throw new InvalidOperationException("the OpenPGP message is already complete");
        }
    }
}
