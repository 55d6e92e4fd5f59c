using System.Buffers;
using System.Security.Cryptography;

namespace SecureIntake.Mail.Ingest;

/// <summary>
/// A raw message copied out of the IMAP reply into pooled memory, so that it can be encrypted on another core while
/// the next message is read. It never leaves memory, and is zeroed before its buffer goes back to the pool.
/// </summary>
internal sealed class PlaintextCopy : IDisposable
{
    private const int FirstBufferBytes = 64 * 1024;

    private byte[] _buffer;
    private int _length;

    private PlaintextCopy(byte[] buffer) => _buffer = buffer;

    public ReadOnlyMemory<byte> Bytes => _buffer.AsMemory(0, _length);

    public static async Task<PlaintextCopy> ReadAsync(Stream raw, CancellationToken cancellationToken)
    {
        var known = raw.CanSeek ? raw.Length - raw.Position : 0;
        if (known > Array.MaxLength)
        {
            throw new IOException("the message is too large to hold in memory");
        }

        var copy = new PlaintextCopy(ArrayPool<byte>.Shared.Rent((int)Math.Max(known + 1, FirstBufferBytes)));
        try
        {
            int read;
            while ((read = await raw.ReadAsync(copy._buffer.AsMemory(copy._length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                copy._length += read;
                if (copy._length == copy._buffer.Length)
                {
                    copy.Grow();
                }
            }

            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    public Stream OpenRead() => new MemoryStream(_buffer, 0, _length, writable: false);

    public void Dispose()
    {
        if (_buffer.Length == 0)
        {
            return;
        }

        CryptographicOperations.ZeroMemory(_buffer.AsSpan(0, _length));
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _length = 0;
    }

    private void Grow()
    {
        if (_buffer.Length >= Array.MaxLength)
        {
            throw new IOException("the message is too large to hold in memory");
        }

        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)_buffer.Length * 2, Array.MaxLength));
        _buffer.AsSpan(0, _length).CopyTo(larger);
        CryptographicOperations.ZeroMemory(_buffer.AsSpan(0, _length));
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
