using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Grants;
using SecureIntake.Crypto.Decryption;
using SecureIntake.Crypto.Grants;
using SecureIntake.Crypto.Keys;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests.Grants;

/// <summary>A stored item encrypted to A and B, rewritten on the server to let C in (or B out), crashes included.</summary>
public sealed class ItemKeyPacketsTests : IAsyncLifetime, IDisposable
{
    private static readonly byte[] Plaintext = [.. Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7))];

    private readonly TemporaryDirectory _directory = new("si-grant-blobs-");
    private readonly GnuPgHome _gpg = new();
    private readonly ManualClock _clock = new(DateTimeOffset.UtcNow);
    private NpgsqlDataSource _dataSource = null!;
    private BlobStore _blobs = null!;
    private ItemKeyPackets _items = null!;
    private Key _a = null!;
    private Key _b = null!;
    private Key _c = null!;
    private Guid _submission;
    private Guid _item;

    public async Task InitializeAsync()
    {
        _dataSource = await CoreDatabase.CreateAsync();
        _blobs = IntakeWorld.Blobs(_directory);
        _items = new ItemKeyPackets(_dataSource, _blobs, NullLogger<ItemKeyPackets>.Instance);
        _a = await KeyAsync("a", "cv25519");
        _b = await KeyAsync("b", "nistp256");
        _c = await KeyAsync("c", "nistp384");

        var sealedBlob = await _blobs.WriteEncryptedAsync([_a.Recipient, _b.Recipient], new MemoryStream(Plaintext), CancellationToken.None);
        _item = sealedBlob.Id;
        _submission = Guid.NewGuid();
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO submissions (id, desk_id, channel, received_at, witness_active_at)
            SELECT @submission, id, 'web', date_trunc('minute', now()), date_trunc('minute', now()) FROM desks;
            INSERT INTO submission_items (id, submission_id, batch_id, author, kind, ciphertext_bytes, added_at)
            VALUES (@item, @submission, gen_random_uuid(), 'witness', 'message', @bytes, date_trunc('minute', now()));
            """);
        command.Parameters.AddWithValue("submission", _submission);
        command.Parameters.AddWithValue("item", _item);
        command.Parameters.AddWithValue("bytes", sealedBlob.CiphertextBytes);
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public void Dispose()
    {
        _gpg.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task A_granted_item_opens_for_the_new_key_in_gpg_and_differs_only_in_its_key_packets()
    {
        var before = await StoredAsync();

        var added = await _items.AddAsync(_submission, _item, await PacketsFromA(_c), CancellationToken.None);

        var after = await StoredAsync();
        var beforePackets = KeyPackets.ReadLeading(before, out var beforeRest);
        var afterPackets = KeyPackets.ReadLeading(after, out var afterRest);
        Assert.Equal([_c.KeyId], added);
        Assert.Equal(before.AsSpan(0, beforeRest).ToArray(), after.AsSpan(0, beforeRest).ToArray());
        Assert.Equal([_a.KeyId, _b.KeyId, _c.KeyId], afterPackets.Select(p => p.KeyId));
        Assert.Equal(2, beforePackets.Count);
        Assert.Equal(before.AsSpan(beforeRest).ToArray(), after.AsSpan(afterRest).ToArray());
        Assert.Equal(Plaintext, await GpgWithOnlyAsync(_c, after));
        await AssertOpensForAsync(_a, _b);
        Assert.Single(Directory.EnumerateFiles(_directory.Path));
    }

    [Fact]
    public async Task Revoking_a_key_drops_its_packet_only_and_the_last_key_is_never_revoked()
    {
        await _items.RevokeAsync(_submission, _item, _b.KeyId, CancellationToken.None);

        await AssertOpensForAsync(_a);
        var revoked = await StoredAsync();
        await Assert.ThrowsAsync<DecryptionException>(() => DecryptAsync(_b, revoked));
        var last = await Assert.ThrowsAsync<GrantRefusedException>(() => _items.RevokeAsync(_submission, _item, _a.KeyId, CancellationToken.None));
        Assert.Equal(GrantRefusal.LastKey, last.Refusal);
        var absent = await Assert.ThrowsAsync<GrantRefusedException>(() => _items.RevokeAsync(_submission, _item, _c.KeyId, CancellationToken.None));
        Assert.Equal(GrantRefusal.NoSuchKey, absent.Refusal);
        await AssertOpensForAsync(_a);
    }

    public static TheoryData<string> BadUploads => ["garbage", "already-there", "trailing-bytes", "empty"];

    [Theory]
    [MemberData(nameof(BadUploads))]
    public async Task A_bad_upload_is_refused_and_changes_nothing(string kind)
    {
        var before = await StoredAsync();
        var forC = await PacketsFromA(_c);
        byte[] upload = kind switch
        {
            "garbage" => [0xC1, 0x05, 1, 2, 3, 4, 5],
            "already-there" => [.. forC, .. await PacketsFromA(_b, includeExisting: true)],
            "trailing-bytes" => [.. forC, 0x00],
            _ => [],
        };

        var error = await Assert.ThrowsAsync<GrantRefusedException>(() => _items.AddAsync(_submission, _item, upload, CancellationToken.None));

        Assert.Equal(GrantRefusal.BadPackets, error.Refusal);
        Assert.Equal(before, await StoredAsync());
        Assert.Single(Directory.EnumerateFiles(_directory.Path));
    }

    [Fact]
    public async Task An_item_of_another_submission_is_not_found()
    {
        var packets = await PacketsFromA(_c);

        var error = await Assert.ThrowsAsync<GrantRefusedException>(() => _items.AddAsync(Guid.NewGuid(), _item, packets, CancellationToken.None));

        Assert.Equal(GrantRefusal.NotFound, error.Refusal);
    }

    [Theory]
    [InlineData("NewBlobDurable")]
    [InlineData("Switched")]
    public async Task A_crash_during_the_rewrite_leaves_the_item_open_to_A_and_B_and_the_sweep_removes_the_leftover(string step)
    {
        _items.Hook = at => at.ToString() == step ? throw new SimulatedCrashException() : Task.CompletedTask;
        var packets = await PacketsFromA(_c);

        await Assert.ThrowsAsync<SimulatedCrashException>(() => _items.AddAsync(_submission, _item, packets, CancellationToken.None));

        Assert.Equal(2, Directory.EnumerateFiles(_directory.Path).Count());
        await AssertOpensForAsync(_a, _b);
        var sweep = new OrphanBlobSweep(_blobs, _dataSource, _clock, NullLogger<OrphanBlobSweep>.Instance);
        await sweep.RunAsync(CancellationToken.None);
        _clock.Now += OrphanBlobSweep.Grace * 2;
        Assert.Equal(1, await sweep.RunAsync(CancellationToken.None));
        Assert.Single(Directory.EnumerateFiles(_directory.Path));
        await AssertOpensForAsync(_a, _b);
    }

    private async Task AssertOpensForAsync(params Key[] keys)
    {
        var stored = await StoredAsync();
        foreach (var key in keys)
        {
            Assert.Equal(Plaintext, await DecryptAsync(key, stored));
        }
    }

    private async Task<byte[]> StoredAsync()
    {
        await using var command = _dataSource.CreateCommand("SELECT COALESCE(blob_id, id), ciphertext_bytes FROM submission_items WHERE id = @item");
        command.Parameters.AddWithValue("item", _item);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var (blob, bytes) = (reader.GetGuid(0), reader.GetInt64(1));
        await using var stream = _blobs.OpenRead(blob);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(bytes, copy.Length);
        return copy.ToArray();
    }

    private async Task<byte[]> PacketsFromA(Key to, bool includeExisting = false)
    {
        var stored = await StoredAsync();
        var packets = KeyPackets.ReadLeading(stored, out var rest);
        if (includeExisting)
        {
            return stored.AsSpan(0, rest).ToArray();
        }

        return SessionKeyGrant.FromSecretKeys(_a.Secret, "").PacketsFor(packets, [to.Recipient]);
    }

    private static async Task<byte[]> DecryptAsync(Key key, byte[] message)
    {
        using var plaintext = new MemoryStream();
        await OpenPgpDecryptor.FromSecretKeys(key.Secret, "").DecryptAsync(new MemoryStream(message), plaintext, CancellationToken.None);
        return plaintext.ToArray();
    }

    private static async Task<byte[]> GpgWithOnlyAsync(Key key, byte[] message)
    {
        using var home = new GnuPgHome();
        await home.ImportAsync(key.Secret);
        using var files = new TemporaryDirectory("si-grant-item-");
        var file = files.File("item.gpg");
        await File.WriteAllBytesAsync(file, message);
        return (await home.DecryptAsync(file)).EnsureSuccess("gpg --decrypt").Output;
    }

    private async Task<Key> KeyAsync(string name, string algorithm)
    {
        var fingerprint = await _gpg.GenerateAsync($"<{name}@test.invalid>", algorithm == "cv25519" ? "ed25519" : algorithm, "cert,sign", "never");
        var subkey = await _gpg.AddSubkeyAsync(fingerprint, algorithm, "encr", "never");
        var recipient = RecipientKeyReader.Read(await _gpg.ExportPublicAsync(fingerprint), DateTimeOffset.UtcNow).Single().Key!;
        return new Key(recipient, await _gpg.ExportSecretAsync(fingerprint), Convert.ToInt64(subkey[^16..], 16));
    }

    private sealed record Key(RecipientKey Recipient, byte[] Secret, long KeyId);
}
