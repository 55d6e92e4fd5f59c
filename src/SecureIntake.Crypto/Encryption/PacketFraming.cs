namespace SecureIntake.Crypto.Encryption;

/// <summary>OpenPGP new-format packet headers and lengths (RFC 4880 section 4.2.2).</summary>
internal static class PacketFraming
{
    public const byte PublicKeyEncryptedSessionKeyTag = 1;
    public const byte LiteralDataTag = 11;
    public const byte SymmetricallyEncryptedIntegrityProtectedTag = 18;
    public const byte ModificationDetectionCodeTag = 19;

    /// <summary>Every partial body chunk we write is 2^16 bytes: large enough to be cheap, a power of two as required.</summary>
    public const int PartialChunkBits = 16;
    public const int PartialChunkSize = 1 << PartialChunkBits;
    public const byte PartialChunkHeader = 0xE0 | PartialChunkBits;

    public static byte TagByte(byte tag) => (byte)(0xC0 | tag);

    /// <summary>Writes a definite length and returns how many bytes it took (1, 2 or 5).</summary>
    public static int WriteLength(Span<byte> destination, int length)
    {
        if (length < 192)
        {
            destination[0] = (byte)length;
            return 1;
        }

        if (length < 8384)
        {
            var rest = length - 192;
            destination[0] = (byte)((rest >> 8) + 192);
            destination[1] = (byte)rest;
            return 2;
        }

        destination[0] = 0xFF;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(destination[1..], length);
        return 5;
    }

    public static byte[] Packet(byte tag, ReadOnlySpan<byte> body)
    {
        Span<byte> header = stackalloc byte[6];
        header[0] = TagByte(tag);
        var headerLength = 1 + WriteLength(header[1..], body.Length);
        var packet = new byte[headerLength + body.Length];
        header[..headerLength].CopyTo(packet);
        body.CopyTo(packet.AsSpan(headerLength));
        return packet;
    }

    /// <summary>An OpenPGP multiprecision integer: a two-byte bit count, then the big-endian value without leading zeros.</summary>
    public static byte[] Mpi(ReadOnlySpan<byte> unsignedBigEndian)
    {
        var value = unsignedBigEndian.TrimStart((byte)0);
        var bits = value.IsEmpty ? 0 : ((value.Length - 1) * 8) + (8 - System.Numerics.BitOperations.LeadingZeroCount((uint)value[0]) + 24);
        var mpi = new byte[2 + value.Length];
        mpi[0] = (byte)(bits >> 8);
        mpi[1] = (byte)bits;
        value.CopyTo(mpi.AsSpan(2));
        return mpi;
    }
}
