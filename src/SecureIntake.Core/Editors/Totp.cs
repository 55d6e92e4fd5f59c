using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace SecureIntake.Core.Editors;

/// <summary>
/// Time-based one-time codes for editors' second factor (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps,
/// 6 digits, counted from the Unix epoch. These are the defaults every authenticator app understands, so an
/// editor can scan the provisioning URI with whichever app they already trust.
/// </summary>
public static class Totp
{
    /// <summary>160 bits: the HMAC-SHA1 output size, which RFC 4226 recommends as the shared secret's length.</summary>
    public const int SecretBytes = 20;

    private const int Digits = 6;

    private const int StepSeconds = 30;

    private const int Modulus = 1_000_000;

    // One step either side: a phone clock a little off, or a code typed just as it rolled over, still works.
    private const int DriftSteps = 1;

    // Nothing longer is even looked at: a form field cannot be used to make the server walk a huge string.
    private const int MaxCodeInputLength = 64;

    private const string Base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    public static byte[] NewSecret() => RandomNumberGenerator.GetBytes(SecretBytes);

    /// <summary>RFC 4648 base32, upper case, without padding: the form authenticator apps expect in a URI or typed by hand.</summary>
    public static string ToBase32(ReadOnlySpan<byte> secret)
    {
        var text = new StringBuilder((secret.Length * 8 + 4) / 5);
        var buffer = 0;
        var bits = 0;
        foreach (var b in secret)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                text.Append(Base32Alphabet[(buffer >> bits) & 31]);
            }
        }

        if (bits > 0)
        {
            text.Append(Base32Alphabet[(buffer << (5 - bits)) & 31]);
        }

        return text.ToString();
    }

    /// <summary>
    /// Reads base32 as a person may have copied it: any case, grouped with spaces, with or without '=' padding.
    /// Anything else (another character, padding in the middle, an impossible length, stray bits) is a FormatException.
    /// </summary>
    public static byte[] FromBase32(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var compact = string.Concat(text.Where(c => !char.IsWhiteSpace(c))).TrimEnd('=');
        if (compact.Contains('=', StringComparison.Ordinal))
        {
            throw new FormatException("base32 padding may only come at the end");
        }

        // 8 characters carry 5 bytes; a final group of 1, 3 or 6 characters cannot come from whole bytes.
        if (compact.Length % 8 is 1 or 3 or 6)
        {
            throw new FormatException("base32 text has an impossible length");
        }

        var bytes = new byte[compact.Length * 5 / 8];
        var buffer = 0;
        var bits = 0;
        var written = 0;
        foreach (var c in compact)
        {
            var value = Base32Alphabet.IndexOf(char.ToUpperInvariant(c), StringComparison.Ordinal);
            if (value < 0)
            {
                throw new FormatException("base32 text holds a character outside A-Z and 2-7");
            }

            buffer = ((buffer << 5) | value) & 0xFFFF;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes[written++] = (byte)(buffer >> bits);
            }
        }

        // Left-over bits are padding and must be zero; anything else is not what ToBase32 (or any encoder) wrote.
        if ((buffer & ((1 << bits) - 1)) != 0)
        {
            throw new FormatException("base32 text does not end on a byte boundary");
        }

        return bytes;
    }

    /// <summary>The Key URI format authenticator apps read from a QR code, with the defaults spelled out for apps that need them.</summary>
    public static string ProvisioningUri(string issuer, string account, ReadOnlySpan<byte> secret)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(issuer);
        ArgumentException.ThrowIfNullOrWhiteSpace(account);
        var escapedIssuer = Uri.EscapeDataString(issuer);
        return $"otpauth://totp/{escapedIssuer}:{Uri.EscapeDataString(account)}?secret={ToBase32(secret)}&issuer={escapedIssuer}"
            + $"&algorithm=SHA1&digits={Digits}&period={StepSeconds}";
    }

    public static long StepAt(DateTimeOffset time)
    {
        var seconds = time.ToUnixTimeSeconds();
        ArgumentOutOfRangeException.ThrowIfNegative(seconds, nameof(time));
        return seconds / StepSeconds;
    }

    public static string Code(ReadOnlySpan<byte> secret, long step)
    {
        if (secret.IsEmpty)
        {
            throw new ArgumentException("a TOTP secret cannot be empty", nameof(secret));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(step);
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        Span<byte> mac = stackalloc byte[HMACSHA1.HashSizeInBytes];
        // SHA-1 is what RFC 6238's default and every authenticator app use; HMAC-SHA1 does not rest on SHA-1's
        // collision resistance, which is the part that is broken.
#pragma warning disable CA5350
        HMACSHA1.HashData(secret, counter, mac);
#pragma warning restore CA5350
        // RFC 4226 dynamic truncation: the low nibble of the last byte picks four bytes, top bit dropped.
        var offset = mac[^1] & 0x0F;
        var value = BinaryPrimitives.ReadInt32BigEndian(mac.Slice(offset, 4)) & 0x7FFFFFFF;
        CryptographicOperations.ZeroMemory(mac);
        return (value % Modulus).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Checks a typed code against the steps around <paramref name="now"/>, but only steps after
    /// <paramref name="lastUsedStep"/>: once a code has signed someone in, neither it nor any older code works again,
    /// even inside the drift window. Returns the step that matched, for the caller to store as the new last used step,
    /// or null. Pass -1 as <paramref name="lastUsedStep"/> before any code has been used.
    /// </summary>
    public static long? Verify(ReadOnlySpan<byte> secret, string code, DateTimeOffset now, long lastUsedStep)
    {
        if (code is null || code.Length > MaxCodeInputLength)
        {
            return null;
        }

        // Apps show codes as "123 456", and a pasted code may carry a newline.
        var typed = string.Concat(code.Where(c => !char.IsWhiteSpace(c)));
        if (typed.Length != Digits || !typed.All(char.IsAsciiDigit))
        {
            return null;
        }

        Span<byte> typedBytes = stackalloc byte[Digits];
        Encoding.ASCII.GetBytes(typed, typedBytes);
        Span<byte> expectedBytes = stackalloc byte[Digits];
        var current = StepAt(now);
        long? matched = null;
        // Every candidate step is computed and compared, so the time taken does not say which one (if any) matched.
        for (var step = current - DriftSteps; step <= current + DriftSteps; step++)
        {
            if (step <= lastUsedStep || step < 0)
            {
                continue;
            }

            Encoding.ASCII.GetBytes(Code(secret, step), expectedBytes);
            if (CryptographicOperations.FixedTimeEquals(typedBytes, expectedBytes))
            {
                // The latest matching step is kept, so a (one in a million) repeat of a code refuses the most.
                matched = step;
            }
        }

        return matched;
    }
}
