using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;

namespace SecureIntake.Core.Codenames;

/// <summary>
/// Witness codenames: random words from a CSPRNG, shown once and never stored. A codename is stretched with
/// Argon2id, salted with the install-wide pepper (so the lookup is deterministic), and split by HMAC into a
/// locator and an unlock key. Every check costs one full hash whether or not the codename exists.
/// </summary>
public sealed class Codenames(IOptions<CodenameOptions> options) : IDisposable
{
    /// <summary>Longer input is refused before any hashing, so it cannot be used to make the server work.</summary>
    public const int MaxInputCharacters = 256;

    private static readonly byte[] LocatorLabel = "secureintake codename locator v1"u8.ToArray();
    private static readonly byte[] UnlockLabel = "secureintake codename unlock v1"u8.ToArray();

    private readonly CodenameOptions _options = options.Value;

    // An Argon2 generator allocates its whole memory (32 MiB by default, as 32768 objects) when initialised and
    // wipes it after every hash; reusing a few initialised ones spares the collector that churn on every hash.
    private readonly ConcurrentBag<Argon2BytesGenerator> _idleGenerators = [];

    // More hashes at once than cores only add memory (each holds its own 32 MiB) and generators to make.
    private readonly SemaphoreSlim _hashing = new(Environment.ProcessorCount);

    public string Generate()
    {
        var words = CodenameWordlist.Words;
        return string.Join(' ', Enumerable.Range(0, _options.Words).Select(_ => words[RandomNumberGenerator.GetInt32(words.Count)]));
    }

    /// <summary>Case and spacing do not matter: a witness copying it by hand should not be locked out by them.</summary>
    public static string Normalize(string codename) =>
        string.Join(' ', codename.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Derives on the calling thread once one of the machine's cores is free for it (one hash per core at most).</summary>
    public async Task<CodenameSecrets> DeriveAsync(string codename, CancellationToken cancellationToken)
    {
        await _hashing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Derive(codename);
        }
        finally
        {
            _hashing.Release();
        }
    }

    public void Dispose() => _hashing.Dispose();

    public CodenameSecrets Derive(string codename)
    {
        if (codename.Length > MaxInputCharacters)
        {
            throw new CodenameRejectedException($"a codename is at most {MaxInputCharacters} characters");
        }

        var stretched = new byte[64];
        var password = Encoding.UTF8.GetBytes(Normalize(codename));
        try
        {
            var argon2 = RentGenerator();
            argon2.GenerateBytes(password, stretched);
            ReturnGenerator(argon2);
            return new CodenameSecrets(HMACSHA256.HashData(stretched, LocatorLabel), HMACSHA256.HashData(stretched, UnlockLabel));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
            CryptographicOperations.ZeroMemory(stretched);
        }
    }

    private Argon2BytesGenerator RentGenerator()
    {
        if (_idleGenerators.TryTake(out var idle))
        {
            return idle;
        }

        var generator = new Argon2BytesGenerator();
        generator.Init(new Argon2Parameters.Builder(Argon2Parameters.Argon2id)
            .WithVersion(Argon2Parameters.Version13)
            .WithMemoryAsKB(_options.MemoryKiB)
            .WithIterations(_options.Iterations)
            .WithParallelism(1)
            .WithSalt(Convert.FromBase64String(_options.Pepper))
            .Build());
        return generator;
    }

    /// <summary>Keeps as many idle generators as there are cores (more could not run at once anyway); the rest go.</summary>
    private void ReturnGenerator(Argon2BytesGenerator generator)
    {
        if (_idleGenerators.Count < Environment.ProcessorCount)
        {
            _idleGenerators.Add(generator);
        }
    }
}
