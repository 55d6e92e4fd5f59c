using System.Globalization;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Utilities;

namespace SecureIntake.Crypto.Keys;

/// <summary>
/// Decides, the way GnuPG does, which (sub)key of a certificate to encrypt to: every self-signature
/// and binding signature is verified, revocation and expiry are judged per key from the newest valid
/// signature, key flags decide usage (not the algorithm alone: BouncyCastle's IsEncryptionKey would
/// pick an RSA primary flagged sign-only), and the newest usable encryption subkey wins.
/// </summary>
internal static class EncryptionKeySelector
{
    private const int EncryptionFlags = PgpKeyFlags.CanEncryptCommunications | PgpKeyFlags.CanEncryptStorage;

    public static KeyVerdict Evaluate(PgpPublicKeyRing certificate, DateTimeOffset now)
    {
        var primary = certificate.GetPublicKey();
        var fingerprint = KeyDescriptions.Fingerprint(primary);
        var at = now.UtcDateTime;

        if (primary.Version != 4)
        {
            return KeyVerdict.Refused(fingerprint, KeyProblem.OldVersion,
                $"it is a version {primary.Version} key; only version 4 keys can be encrypted to for now (RFC 9580 v6 keys are not supported yet)",
                primary.Version.ToString(CultureInfo.InvariantCulture));
        }

        if (ValidSignatures(primary, primary, PgpSignature.KeyRevocation, at, s => s.VerifyCertification(primary)).Any())
        {
            return KeyVerdict.Refused(fingerprint, KeyProblem.Revoked, "the key is revoked");
        }

        var userIds = ValidUserIds(primary, at);
        var primarySignature = PrimarySelfSignature(primary, userIds, at);
        if (primarySignature is null)
        {
            return KeyVerdict.Refused(fingerprint, KeyProblem.NoSelfSignature, "it has no valid self-signature (no user ID is certified by the key itself)");
        }

        var primaryExpires = ExpiryOf(primary, primarySignature);
        if (primaryExpires <= now)
        {
            return KeyVerdict.Refused(fingerprint, KeyProblem.Expired, $"the key expired on {primaryExpires:yyyy-MM-dd}",
                primaryExpires?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        }

        var candidates = new List<(PgpPublicKey Key, DateTimeOffset? Expires)>();
        var problems = new List<string>();

        foreach (var subkey in certificate.GetPublicKeys().Where(k => !k.IsMasterKey))
        {
            var subkeyName = $"subkey {KeyDescriptions.Fingerprint(subkey)}";
            var binding = ValidSignatures(subkey, primary, PgpSignature.SubkeyBinding, at, s => s.VerifyCertification(primary, subkey))
                .MaxBy(s => s.CreationTime);
            if (binding is null || !IsFlaggedForEncryption(subkey, binding))
            {
                continue;
            }

            if (ValidSignatures(subkey, primary, PgpSignature.SubkeyRevocation, at, s => s.VerifyCertification(primary, subkey)).Any())
            {
                problems.Add($"{subkeyName} is revoked");
                continue;
            }

            Consider(subkey, Earliest(ExpiryOf(subkey, binding), primaryExpires), subkeyName);
        }

        // Like GnuPG, the primary key serves only when no subkey can (they often share a creation second).
        if (candidates.Count == 0 && IsFlaggedForEncryption(primary, primarySignature))
        {
            Consider(primary, primaryExpires, "primary key");
        }

        if (candidates.Count == 0)
        {
            var why = problems.Count == 0 ? "it has no encryption (sub)key: it is for signing only" : string.Join("; ", problems);
            return KeyVerdict.Refused(fingerprint, problems.Count == 0 ? KeyProblem.SigningOnly : KeyProblem.NoUsableEncryptionKey,
                $"it has no usable encryption key ({why})");
        }

        var chosen = candidates.MaxBy(c => c.Key.CreationTime);
        if (IsUnsoundRsa(chosen.Key) is { } unsound)
        {
            return KeyVerdict.Refused(fingerprint, KeyProblem.UnsoundRsa, $"its encryption key's RSA modulus is unsound ({unsound}): anyone could decrypt what is encrypted to it");
        }

        return KeyVerdict.Usable(new RecipientKey(certificate, chosen.Key, userIds, chosen.Expires));

        void Consider(PgpPublicKey key, DateTimeOffset? expires, string name)
        {
            if (expires <= now)
            {
                problems.Add($"{name} expired on {expires:yyyy-MM-dd}");
            }
            else if (KeyDescriptions.WhyUnsupported(key) is { } why)
            {
                problems.Add($"{name}: {why}");
            }
            else
            {
                candidates.Add((key, expires));
            }
        }
    }

    private static List<string> ValidUserIds(PgpPublicKey primary, DateTime at)
    {
        var valid = new List<string>();
        foreach (var userId in primary.GetUserIds())
        {
            var newestCertification = SelfCertifications(primary, userId, at).MaxBy(s => s.CreationTime);
            var newestRevocation = ValidSignatures(primary.GetSignaturesForId(userId), primary, PgpSignature.CertificationRevocation, at,
                s => s.VerifyCertification(userId, primary)).MaxBy(s => s.CreationTime);
            if (newestCertification is not null && (newestRevocation is null || newestRevocation.CreationTime < newestCertification.CreationTime))
            {
                valid.Add(userId);
            }
        }

        return valid;
    }

    /// <summary>The self-signature that speaks for the primary key: newest on the primary user ID, else newest on any user ID.</summary>
    private static PgpSignature? PrimarySelfSignature(PgpPublicKey primary, IReadOnlyList<string> userIds, DateTime at)
    {
        var certifications = userIds.SelectMany(id => SelfCertifications(primary, id, at)).ToList();
        var direct = ValidSignatures(primary, primary, PgpSignature.DirectKey, at, s => s.VerifyCertification(primary)).MaxBy(s => s.CreationTime);
        var primaryUserId = certifications.Where(s => s.GetHashedSubPackets()?.IsPrimaryUserId() == true).MaxBy(s => s.CreationTime);
        return primaryUserId ?? certifications.MaxBy(s => s.CreationTime) ?? direct;
    }

    private static IEnumerable<PgpSignature> SelfCertifications(PgpPublicKey primary, string userId, DateTime at) =>
        primary.GetSignaturesForId(userId)
            .Where(s => s.IsCertification())
            .Where(s => IsCurrentSelfSignature(s, primary, at) && Verifies(s, primary, x => x.VerifyCertification(userId, primary)));

    private static IEnumerable<PgpSignature> ValidSignatures(PgpPublicKey on, PgpPublicKey issuer, int type, DateTime at, Func<PgpSignature, bool> verify) =>
        ValidSignatures(on.GetSignaturesOfType(type), issuer, type, at, verify);

    private static IEnumerable<PgpSignature> ValidSignatures(IEnumerable<PgpSignature> signatures, PgpPublicKey issuer, int type, DateTime at, Func<PgpSignature, bool> verify) =>
        signatures.Where(s => s.SignatureType == type && IsCurrentSelfSignature(s, issuer, at) && Verifies(s, issuer, verify));

    private static bool IsCurrentSelfSignature(PgpSignature signature, PgpPublicKey issuer, DateTime at)
    {
        if (signature.KeyId != issuer.KeyId || signature.CreationTime > at.AddMinutes(5))
        {
            return false;
        }

        var hashed = signature.GetHashedSubPackets();
        var lifetime = hashed?.GetSignatureExpirationTime() ?? 0;
        return lifetime == 0 || signature.CreationTime.AddSeconds(lifetime) > at;
    }

    /// <summary>
    /// The modulus we encrypt to is tested once, when the key is judged: even, with a small factor, or prime
    /// (BouncyCastle's checks, Miller-Rabin included). Encryption itself then uses OpenSSL, which checks none of it.
    /// </summary>
    private static string? IsUnsoundRsa(PgpPublicKey key)
    {
        if (key.Algorithm is not (PublicKeyAlgorithmTag.RsaGeneral or PublicKeyAlgorithmTag.RsaEncrypt))
        {
            return null;
        }

        try
        {
            _ = key.GetKey();
            return null;
        }
        catch (PgpException e) when (e.InnerException is ArgumentException invalid)
        {
            // BouncyCastle wraps its parameter checks: "RSA modulus is not composite", "... is even", ...
            return invalid.Message.Split(" (Parameter", 2)[0];
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    private static bool Verifies(PgpSignature signature, PgpPublicKey issuer, Func<PgpSignature, bool> verify)
    {
        try
        {
            // BouncyCastle builds the issuer's parameters anew for every signature, and for RSA runs a
            // Miller-Rabin test on the modulus each time: with a few self-signatures per key that was most of
            // the time spent reading an RSA-4096 certificate. A prime issuer modulus would only let someone
            // forge the owner's own signatures, so it is not tested here; the modulus we encrypt to still is,
            // once per key (IsUnsoundRsa).
            Properties.WithThreadProperty(Properties.RsaMaxMRTests, "0", () => signature.InitVerify(issuer));
            return verify(signature);
        }
        catch (Exception e) when (e is PgpException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            // A signature we cannot check counts as no signature, as in GnuPG.
            return false;
        }
    }

    private static bool IsFlaggedForEncryption(PgpPublicKey key, PgpSignature signature)
    {
        var hashed = signature.GetHashedSubPackets();
        return hashed is not null && hashed.HasSubpacket(Org.BouncyCastle.Bcpg.SignatureSubpacketTag.KeyFlags)
            ? (hashed.GetKeyFlags() & EncryptionFlags) != 0
            : KeyDescriptions.CanEncrypt(key);
    }

    private static DateTimeOffset? ExpiryOf(PgpPublicKey key, PgpSignature signature)
    {
        var seconds = signature.GetHashedSubPackets()?.GetKeyExpirationTime() ?? 0;
        return seconds == 0 ? null : new DateTimeOffset(key.CreationTime, TimeSpan.Zero).AddSeconds(seconds);
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : (a < b ? a : b);
}
