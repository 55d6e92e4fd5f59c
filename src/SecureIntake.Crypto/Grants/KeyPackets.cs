using System.Buffers.Binary;
using System.Globalization;
using Org.BouncyCastle.Bcpg;

namespace SecureIntake.Crypto.Grants;

/// <summary>
/// One version 3 public-key encrypted session key packet (PKESK), kept as the exact bytes it was read as, so that
/// rewriting an item around it never changes a packet another recipient relies on.
/// </summary>
public sealed class KeyPacket
{
    internal KeyPacket(long keyId, PublicKeyAlgorithmTag algorithm, byte[] packet, int bodyOffset)
    {
        KeyId = keyId;
        Algorithm = algorithm;
        Packet = packet;
        BodyOffset = bodyOffset;
    }

    /// <summary>The key id of the (sub)key the session key is encrypted to.</summary>
    public long KeyId { get; }

    /// <summary>The key id as GnuPG prints it: 16 upper-case hex digits.</summary>
    public string KeyIdHex => KeyPackets.FormatKeyId(KeyId);

    public PublicKeyAlgorithmTag Algorithm { get; }

    /// <summary>The whole packet, header included, as stored.</summary>
    public ReadOnlyMemory<byte> Packet { get; }

    internal int BodyOffset { get; }

    /// <summary>The algorithm-specific part after version, key id and algorithm.</summary>
    internal ReadOnlySpan<byte> EncryptedSessionKey => Packet.Span[(BodyOffset + 10)..];
}

/// <summary>Why a run of bytes is not the session key packets we accept.</summary>
public sealed class KeyPacketException(string message) : Exception(message);

/// <summary>
/// Reads the session key packets that open every stored item (RFC 4880 sections 4.2 and 5.1): each item is a run of
/// version 3 PKESKs for RSA or ECDH, then one SEIPD packet. Only the packets' framing and fields are read; nothing
/// here can open the content.
/// </summary>
public static class KeyPackets
{
    /// <summary>More recipients than any desk has; a cap so a hostile upload or item cannot make us read without end.</summary>
    public const int MaximumPackets = 64;

    /// <summary>An RSA-8192 packet is about 1 KiB: this bounds one packet and, times <see cref="MaximumPackets"/>, the run.</summary>
    public const int MaximumPacketBytes = 2048;

    /// <summary>How many leading bytes of an item can hold its key packets at most.</summary>
    public const int MaximumLeadingBytes = MaximumPackets * MaximumPacketBytes;

    private const byte PkeskTag = 1;

    public static string FormatKeyId(long keyId) => keyId.ToString("X16", CultureInfo.InvariantCulture);

    /// <summary>
    /// Reads the key packets at the start of an item, up to the first packet of another kind, whose offset is
    /// returned in <paramref name="restOffset"/>. The bytes after that are not looked at beyond its tag.
    /// </summary>
    /// <exception cref="KeyPacketException">The start is not key packets followed by more data.</exception>
    public static IReadOnlyList<KeyPacket> ReadLeading(ReadOnlySpan<byte> data, out int restOffset)
    {
        var packets = new List<KeyPacket>();
        var offset = 0;
        while (true)
        {
            if (offset >= data.Length)
            {
                throw new KeyPacketException(packets.Count == 0
                    ? "the item is empty"
                    : "the item holds only key packets, or more of them than allowed: no encrypted data follows");
            }

            if (TagOf(data[offset]) != PkeskTag)
            {
                break;
            }

            packets.Add(ReadOne(data, ref offset));
            if (packets.Count > MaximumPackets)
            {
                throw new KeyPacketException($"the item has more than {MaximumPackets} key packets");
            }
        }

        if (packets.Count == 0)
        {
            throw new KeyPacketException("the item does not start with a public-key encrypted session key packet");
        }

        restOffset = offset;
        return packets;
    }

    /// <summary>
    /// Reads bytes that must be key packets and nothing else (an upload of new recipients): each a version 3 PKESK
    /// for RSA or ECDH, to a non-zero key id, each key id once.
    /// </summary>
    /// <exception cref="KeyPacketException">Anything else, with the reason.</exception>
    public static IReadOnlyList<KeyPacket> ReadOnly(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            throw new KeyPacketException("no key packets were sent");
        }

        var packets = new List<KeyPacket>();
        var offset = 0;
        while (offset < data.Length)
        {
            if (TagOf(data[offset]) != PkeskTag)
            {
                throw new KeyPacketException($"packet {packets.Count + 1} is not a public-key encrypted session key packet");
            }

            packets.Add(ReadOne(data, ref offset));
            if (packets.Count > MaximumPackets)
            {
                throw new KeyPacketException($"more than {MaximumPackets} key packets were sent");
            }
        }

        if (packets.GroupBy(p => p.KeyId).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new KeyPacketException($"key id {FormatKeyId(twice.Key)} has more than one packet");
        }

        return packets;
    }

    /// <summary>The packet tag of a header octet, old or new format; -1 when the octet is no packet header.</summary>
    private static int TagOf(byte header) =>
        (header & 0x80) == 0 ? -1 : (header & 0x40) != 0 ? header & 0x3F : (header >> 2) & 0x0F;

    private static KeyPacket ReadOne(ReadOnlySpan<byte> data, ref int offset)
    {
        var start = offset;
        var header = data[offset++];
        int length;
        if ((header & 0x40) != 0)
        {
            length = NewFormatLength(data, ref offset);
        }
        else
        {
            length = (header & 0x03) switch
            {
                0 => Need(data, offset, 1)[0],
                1 => BinaryPrimitives.ReadUInt16BigEndian(Need(data, offset, 2)),
                2 => checked((int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(Need(data, offset, 4)), int.MaxValue)),
                _ => throw new KeyPacketException("a key packet has an indeterminate length"),
            };
            offset += (header & 0x03) switch { 0 => 1, 1 => 2, _ => 4 };
        }

        var bodyOffset = offset - start;
        if (length > MaximumPacketBytes)
        {
            throw new KeyPacketException($"a key packet is {length} bytes long, more than the {MaximumPacketBytes} allowed");
        }

        var body = Need(data, offset, length);
        offset += length;
        var packet = data[start..offset].ToArray();
        return Parse(body, packet, bodyOffset);
    }

    private static int NewFormatLength(ReadOnlySpan<byte> data, ref int offset)
    {
        var first = Need(data, offset, 1)[0];
        if (first < 192)
        {
            offset += 1;
            return first;
        }

        if (first < 224)
        {
            var second = Need(data, offset, 2)[1];
            offset += 2;
            return ((first - 192) << 8) + second + 192;
        }

        if (first == 255)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(Need(data, offset + 1, 4));
            offset += 5;
            return (int)Math.Min(length, int.MaxValue);
        }

        throw new KeyPacketException("a key packet has a partial body length, which key packets may not have");
    }

    private static KeyPacket Parse(ReadOnlySpan<byte> body, byte[] packet, int bodyOffset)
    {
        if (body.Length < 10)
        {
            throw new KeyPacketException("a key packet is too short");
        }

        if (body[0] != 3)
        {
            throw new KeyPacketException($"a key packet is version {body[0]}; only version 3 is accepted");
        }

        var keyId = BinaryPrimitives.ReadInt64BigEndian(body[1..]);
        if (keyId == 0)
        {
            throw new KeyPacketException("a key packet names no key (a hidden recipient): every recipient must be visible to the desk");
        }

        var algorithm = (PublicKeyAlgorithmTag)body[9];
        var fields = body[10..];
        switch (algorithm)
        {
            case PublicKeyAlgorithmTag.RsaGeneral or PublicKeyAlgorithmTag.RsaEncrypt:
                ExpectEnd(fields, SkipMpi(fields, 0));
                break;
            case PublicKeyAlgorithmTag.ECDH:
                var afterPoint = SkipMpi(fields, 0);
                if (afterPoint >= fields.Length)
                {
                    throw new KeyPacketException("an ECDH key packet has no wrapped key");
                }

                var wrappedLength = fields[afterPoint];
                if (wrappedLength < 24 || wrappedLength % 8 != 0)
                {
                    throw new KeyPacketException("an ECDH key packet's wrapped key has an impossible length");
                }

                ExpectEnd(fields, afterPoint + 1 + wrappedLength);
                break;
            default:
                throw new KeyPacketException($"a key packet uses public-key algorithm {(int)algorithm}; only RSA and ECDH are accepted");
        }

        return new KeyPacket(keyId, algorithm, packet, bodyOffset);
    }

    private static int SkipMpi(ReadOnlySpan<byte> fields, int offset)
    {
        var bits = BinaryPrimitives.ReadUInt16BigEndian(Need(fields, offset, 2));
        if (bits == 0)
        {
            throw new KeyPacketException("a key packet holds an empty number");
        }

        var bytes = (bits + 7) / 8;
        var value = Need(fields, offset + 2, bytes);
        // The bit count must match the value: a mismatch is how malformed numbers slip past other readers.
        if (8 - System.Numerics.BitOperations.LeadingZeroCount((uint)value[0]) + 24 != ((bits - 1) % 8) + 1)
        {
            throw new KeyPacketException("a key packet holds a number whose bit count does not match its value");
        }

        return offset + 2 + bytes;
    }

    private static void ExpectEnd(ReadOnlySpan<byte> fields, int end)
    {
        if (end > fields.Length)
        {
            throw new KeyPacketException("a key packet ends early");
        }

        if (end != fields.Length)
        {
            throw new KeyPacketException("a key packet has bytes after its fields");
        }
    }

    private static ReadOnlySpan<byte> Need(ReadOnlySpan<byte> data, int offset, int count) =>
        offset + count <= data.Length && offset >= 0 && count >= 0
            ? data.Slice(offset, count)
            : throw new KeyPacketException("a key packet ends early");
}
