using SecureIntake.Crypto.Decryption;
using SecureIntake.Crypto.Grants;
using SecureIntake.Crypto.Keys;
using SecureIntake.Crypto.Tests.Encryption;
using SecureIntake.Testing;

namespace SecureIntake.Crypto.Tests.Grants;

/// <summary>An item encrypted to A and B, opened for C from A's machine without the content ever being decrypted.</summary>
[Collection(TestKeysGroup.Name)]
public sealed class SessionKeyGrantTests(TestKeys keys) : IDisposable
{
    private readonly TemporaryDirectory _files = new("si-grant-");

    [Theory]
    [InlineData("rsa2048", "cv25519", "rsa4096")]
    [InlineData("rsa2048", "nistp256", "cv25519")]
    [InlineData("cv25519", "rsa2048", "nistp384")]
    [InlineData("nistp384", "rsa2048", "sq-cv25519")]
    public async Task A_granted_key_opens_the_item_in_stock_gpg_and_sq_to_the_same_bytes(string a, string b, string c)
    {
        var plaintext = Messages.Plaintext(200_003, c.Length);
        var item = await Messages.EncryptAsync(plaintext, [keys.Usable[a].Recipient, keys.Usable[b].Recipient]);
        var newRecipient = keys.Usable[c];
        Assert.False((await DecryptWithGpgHoldingOnly(newRecipient, await WriteAsync(item, "before"))).ExitCode == 0, "C could read the item before the grant");

        var granted = Grant(item, keys.Usable[a].SecretKey, newRecipient.Certificate);
        var file = await WriteAsync(granted, "after");

        Assert.Equal(plaintext, (await DecryptWithGpgHoldingOnly(newRecipient, file)).EnsureSuccess($"gpg --decrypt with only {c}").Output);
        Assert.Equal(plaintext, (await keys.Sq.DecryptAsync(newRecipient.SecretKey, file)).EnsureSuccess($"sq decrypt with {c}").Output);
        Assert.Equal(plaintext, await Messages.DecryptAsync(granted, keys.Usable[b].SecretKey));
        Assert.Equal(plaintext, (await keys.Sq.DecryptAsync(keys.Usable[a].SecretKey, file)).EnsureSuccess($"sq decrypt with {a}").Output);
    }

    [Fact]
    public async Task The_granted_item_differs_only_by_one_appended_key_packet()
    {
        var item = await Messages.EncryptAsync(Messages.Plaintext(5000, 1), [keys.Usable["rsa2048"].Recipient, keys.Usable["cv25519"].Recipient]);
        var before = KeyPackets.ReadLeading(item, out var rest);

        var granted = Grant(item, keys.Usable["cv25519"].SecretKey, keys.Usable["nistp384"].Certificate);
        var after = KeyPackets.ReadLeading(granted, out var grantedRest);

        Assert.Equal(before.Select(p => p.Packet.ToArray()), after.Take(2).Select(p => p.Packet.ToArray()));
        Assert.Equal(3, after.Count);
        Assert.Equal(keys.Usable["nistp384"].EncryptionKeyFingerprint[^16..], after[2].KeyIdHex);
        Assert.Equal(item.AsSpan(rest).ToArray(), granted.AsSpan(grantedRest).ToArray());
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("revoked")]
    [InlineData("sign-only")]
    [InlineData("rsa-sign-only")]
    [InlineData("expired-subkey")]
    public void An_unusable_key_is_refused_with_the_reason(string kind)
    {
        var refused = keys.Refused[kind];

        var error = Assert.Throws<KeyFileException>(() => GrantRecipients.Read(refused.Certificate, DateTimeOffset.UtcNow));

        Assert.Contains(refused.Fingerprint, error.Message, StringComparison.Ordinal);
        Assert.Contains(refused.ReasonContains, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_secret_key_the_item_is_not_encrypted_to_is_refused_by_name()
    {
        var item = await Messages.EncryptAsync([1, 2, 3], [keys.Usable["rsa2048"].Recipient]);

        var error = Assert.Throws<DecryptionException>(() => Grant(item, keys.Usable["cv25519"].SecretKey, keys.Usable["nistp384"].Certificate));

        Assert.Contains("not encrypted to the given secret key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_that_already_has_a_packet_gets_no_second_one()
    {
        var item = await Messages.EncryptAsync([1, 2, 3], [keys.Usable["rsa2048"].Recipient, keys.Usable["cv25519"].Recipient]);
        var packets = KeyPackets.ReadLeading(item, out _);

        var added = SessionKeyGrant.FromSecretKeys(keys.Usable["rsa2048"].SecretKey, "").PacketsFor(packets, [keys.Usable["cv25519"].Recipient]);

        Assert.Empty(added);
    }

    [Fact]
    public async Task Uploaded_packets_must_be_key_packets_and_nothing_else()
    {
        var item = await Messages.EncryptAsync([1, 2, 3], [keys.Usable["rsa2048"].Recipient, keys.Usable["cv25519"].Recipient]);
        var packets = KeyPackets.ReadLeading(item, out var rest);
        var first = packets[0].Packet.ToArray();

        Assert.Equal(2, KeyPackets.ReadOnly(item.AsSpan(0, rest)).Count);
        Assert.Contains("not a public-key encrypted session key packet", Refusal(item));
        Assert.Contains("more than one packet", Refusal([.. first, .. first]));
        Assert.Contains("ends early", Refusal(first.AsSpan(0, first.Length - 1).ToArray()));
        Assert.Contains("only version 3", Refusal(WithBodyByte(first, 0, 6)));
        Assert.Contains("names no key", Refusal(WithKeyId(first, 0)));
        Assert.Contains("only RSA and ECDH", Refusal(WithBodyByte(first, 9, 16)));
        Assert.Contains("no key packets", Refusal([]));
    }

    public void Dispose() => _files.Dispose();

    private static string Refusal(byte[] upload) => Assert.Throws<KeyPacketException>(() => KeyPackets.ReadOnly(upload)).Message;

    private static byte[] WithBodyByte(byte[] packet, int index, byte value)
    {
        var copy = packet.ToArray();
        copy[BodyStart(copy) + index] = value;
        return copy;
    }

    private static byte[] WithKeyId(byte[] packet, long keyId)
    {
        var copy = packet.ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(copy.AsSpan(BodyStart(copy) + 1), keyId);
        return copy;
    }

    // New-format header: one tag octet, then one or two length octets.
    private static int BodyStart(byte[] packet) => packet[1] < 192 ? 2 : 3;

    private static byte[] Grant(byte[] item, byte[] secretKey, byte[] newKey)
    {
        var packets = KeyPackets.ReadLeading(item, out var rest);
        var recipient = GrantRecipients.Read(newKey, DateTimeOffset.UtcNow);
        var added = SessionKeyGrant.FromSecretKeys(secretKey, "").PacketsFor(packets, [recipient]);
        return [.. item.AsSpan(0, rest), .. added, .. item.AsSpan(rest)];
    }

    private static async Task<ToolResult> DecryptWithGpgHoldingOnly(TestKey key, string file)
    {
        using var home = new GnuPgHome();
        await home.ImportAsync(key.SecretKey);
        return await home.DecryptAsync(file);
    }

    private async Task<string> WriteAsync(byte[] message, string name)
    {
        var path = _files.File($"{name}.gpg");
        await File.WriteAllBytesAsync(path, message);
        return path;
    }
}
