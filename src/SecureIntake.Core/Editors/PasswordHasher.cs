using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;

namespace SecureIntake.Core.Editors;

/// <summary>
/// Editors' passwords, stretched with Argon2id and stored as a PHC string
/// (<c>$argon2id$v=19$m=65536,t=3,p=1$salt$hash</c>, the format of the reference implementation and its CLI).
/// The cost lives in each stored string, so raising the default later still verifies old hashes, and
/// <see cref="NeedsRehash"/> tells the caller when to store a fresh one after a successful sign-in.
/// </summary>
public sealed class PasswordHasher
{
    private const int SaltBytes = 16;
    private const int HashBytes = 32;
    private const int Parallelism = 1;

    // Bounds on what a stored string may ask for: a corrupted or planted row must not make one sign-in allocate
    // gigabytes or spin for minutes. They are far above any cost this service would choose.
    private const int MaxMemoryKiB = 1024 * 1024;
    private const int MaxIterations = 100;
    private const int MaxParallelism = 16;
    private const int MinSaltBytes = 8;
    private const int MinHashBytes = 16;
    private const int MaxSaltOrHashBytes = 64;
    private const int MaxEncodedLength = 256;

    // Argon2 needs at least 8 KiB per lane.
    private const int MinMemoryKiBPerLane = 8;

    private readonly int _memoryKiB;
    private readonly int _iterations;

    public PasswordHasher(int memoryKiB = 65536, int iterations = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryKiB, MinMemoryKiBPerLane * Parallelism);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(memoryKiB, MaxMemoryKiB);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(iterations, MaxIterations);
        _memoryKiB = memoryKiB;
        _iterations = iterations;
    }

    public string Hash(string password) => Hash(password, RandomNumberGenerator.GetBytes(SaltBytes));

    /// <summary>With a chosen salt, so tests can compare against the reference implementation byte for byte.</summary>
    internal string Hash(string password, byte[] salt)
    {
        ArgumentNullException.ThrowIfNull(password);
        var cost = new Cost(_memoryKiB, _iterations, Parallelism);
        var hash = Derive(password, salt, cost, HashBytes);
        try
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"$argon2id$v=19$m={cost.MemoryKiB},t={cost.Iterations},p={cost.Parallelism}${ToUnpaddedBase64(salt)}${ToUnpaddedBase64(hash)}");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(hash);
        }
    }

    /// <summary>False for a wrong password and for anything that is not a well-formed, reasonably priced Argon2id string.</summary>
    [SuppressMessage("Performance", "CA1822:Mark members as static",
        Justification = "Callers hash, verify and rehash through one configured hasher; that the cost is read from the stored string is an implementation detail.")]
    public bool Verify(string password, string encoded)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TryParse(encoded, out var cost, out var salt, out var expected))
        {
            return false;
        }

        var actual = Derive(password, salt, cost, expected.Length);
        try
        {
            return CryptographicOperations.FixedTimeEquals(actual, expected);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(actual);
        }
    }

    /// <summary>
    /// True when the stored string is weaker than this hasher would make it (less memory, fewer passes, a shorter salt
    /// or hash), has another shape, or cannot be read at all, so the caller should store <see cref="Hash"/> of the
    /// password it has just verified. A hash made at a higher cost than today's is kept: lowering the settings must
    /// not weaken what is stored.
    /// </summary>
    public bool NeedsRehash(string encoded) =>
        !TryParse(encoded, out var cost, out var salt, out var hash)
        || cost.MemoryKiB < _memoryKiB
        || cost.Iterations < _iterations
        || cost.Parallelism != Parallelism
        || salt.Length < SaltBytes
        || hash.Length < HashBytes;

    private static byte[] Derive(string password, byte[] salt, Cost cost, int length)
    {
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        var output = new byte[length];
        try
        {
            var generator = new Argon2BytesGenerator();
            generator.Init(new Argon2Parameters.Builder(Argon2Parameters.Argon2id)
                .WithVersion(Argon2Parameters.Version13)
                .WithMemoryAsKB(cost.MemoryKiB)
                .WithIterations(cost.Iterations)
                .WithParallelism(cost.Parallelism)
                .WithSalt(salt)
                .Build());
            generator.GenerateBytes(passwordBytes, output);
            return output;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
        }
    }

    private static bool TryParse(string? encoded, out Cost cost, out byte[] salt, out byte[] hash)
    {
        cost = default;
        salt = [];
        hash = [];
        if (encoded is null || encoded.Length > MaxEncodedLength)
        {
            return false;
        }

        // "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash. A missing version (Argon2 1.0) is not accepted: we never wrote one.
        var parts = encoded.Split('$');
        if (parts.Length != 6 || parts[0].Length != 0 || parts[1] != "argon2id" || parts[2] != "v=19")
        {
            return false;
        }

        var settings = parts[3].Split(',');
        if (settings.Length != 3
            || !TryReadSetting(settings[0], "m=", out var memoryKiB)
            || !TryReadSetting(settings[1], "t=", out var iterations)
            || !TryReadSetting(settings[2], "p=", out var parallelism))
        {
            return false;
        }

        if (parallelism is < 1 or > MaxParallelism
            || memoryKiB < MinMemoryKiBPerLane * parallelism || memoryKiB > MaxMemoryKiB
            || iterations is < 1 or > MaxIterations)
        {
            return false;
        }

        if (!TryFromUnpaddedBase64(parts[4], out salt) || salt.Length is < MinSaltBytes or > MaxSaltOrHashBytes
            || !TryFromUnpaddedBase64(parts[5], out hash) || hash.Length is < MinHashBytes or > MaxSaltOrHashBytes)
        {
            return false;
        }

        cost = new Cost(memoryKiB, iterations, parallelism);
        return true;
    }

    private static bool TryReadSetting(string setting, string prefix, out int value)
    {
        value = 0;
        // NumberStyles.None: digits only, no sign, no spaces; at most 9 digits so it cannot overflow.
        return setting.StartsWith(prefix, StringComparison.Ordinal)
            && setting.Length - prefix.Length is >= 1 and <= 9
            && int.TryParse(setting.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static string ToUnpaddedBase64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    private static bool TryFromUnpaddedBase64(string text, out byte[] bytes)
    {
        bytes = [];
        // Convert would skip whitespace and accept padding; the PHC format has neither.
        if (text.Length % 4 == 1 || !text.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/'))
        {
            return false;
        }

        var padded = text + new string('=', (4 - text.Length % 4) % 4);
        var buffer = new byte[padded.Length / 4 * 3];
        if (!Convert.TryFromBase64String(padded, buffer, out var written))
        {
            return false;
        }

        bytes = buffer[..written];
        return true;
    }

    private readonly record struct Cost(int MemoryKiB, int Iterations, int Parallelism);
}
