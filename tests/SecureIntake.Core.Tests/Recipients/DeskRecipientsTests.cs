using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SecureIntake.Core.Recipients;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests.Recipients;

public sealed class DeskRecipientsTests : IAsyncLifetime, IDisposable
{
    private readonly GnuPgHome _gpg = new();
    private string _aliceFingerprint = "";
    private byte[] _alice = [];
    private string _bobFingerprint = "";
    private byte[] _bob = [];
    private byte[] _bobBinary = [];
    private byte[] _bobRevoked = [];
    private byte[] _signOnly = [];
    private NpgsqlDataSource _dataSource = null!;
    private RecipientStore _store = null!;
    private DeskRecipients _recipients = null!;

    public async Task InitializeAsync()
    {
        _aliceFingerprint = await _gpg.GenerateAsync("<alice@newsroom.invalid>", "ed25519", "cert,sign", "never");
        await _gpg.AddSubkeyAsync(_aliceFingerprint, "cv25519", "encr", "never");
        _alice = await _gpg.ExportPublicAsync(_aliceFingerprint);
        _bobFingerprint = await _gpg.GenerateAsync("<bob@newsroom.invalid>", "ed25519", "cert,sign", "never");
        await _gpg.AddSubkeyAsync(_bobFingerprint, "cv25519", "encr", "never");
        _bob = await _gpg.ExportPublicAsync(_bobFingerprint);
        _bobBinary = await _gpg.ExportPublicAsync(_bobFingerprint, armor: false);
        // The revocation certificate gpg made with the key, imported as its owner would after losing the private half.
        await _gpg.RevokeKeyAsync(_bobFingerprint);
        _bobRevoked = await _gpg.ExportPublicAsync(_bobFingerprint);
        _signOnly = await _gpg.ExportPublicAsync(await _gpg.GenerateAsync("<sign-only@newsroom.invalid>", "ed25519", "cert,sign", "never"));

        _dataSource = await CoreDatabase.CreateAsync();
        _store = new RecipientStore(_dataSource, TimeProvider.System);
        _recipients = new DeskRecipients(_store, new RecipientKeyCheck(_store, TimeProvider.System, NullLogger<RecipientKeyCheck>.Instance), TimeProvider.System);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public void Dispose() => _gpg.Dispose();

    [Fact]
    public async Task A_revocation_of_a_stored_key_is_merged_and_the_key_is_no_longer_encrypted_to()
    {
        Assert.False((await _recipients.AddKeysAsync("default", _alice, CancellationToken.None)).IsRefused);
        Assert.False((await _recipients.AddKeysAsync("default", _bobBinary, CancellationToken.None)).IsRefused);

        var revocation = await _recipients.AddKeysAsync("default", _bobRevoked, CancellationToken.None);

        Assert.Null(revocation.Refusal);
        var change = Assert.Single(revocation.Changes);
        Assert.Equal(KeyChangeKind.NowRefused, change.Kind);
        Assert.Equal($"updated {_bobFingerprint} for desk 'default': it is now refused (the key is revoked) and will no longer be encrypted to", change.Describe());
        Assert.Empty(revocation.BlockingProblems);
        var (_, usable) = await _store.UsableKeysAsync("default", CancellationToken.None);
        Assert.Equal(_aliceFingerprint, Assert.Single(usable).Fingerprint);
        var listed = await _store.ListAsync(CancellationToken.None);
        Assert.Equal("the key is revoked", listed.Single(r => r.Fingerprint == _bobFingerprint).Verdict.RefusalReason);

        // The copy from before the revocation cannot take it back.
        var older = await _recipients.AddKeysAsync("default", _bob, CancellationToken.None);
        Assert.Equal(KeyChangeKind.NowRefused, Assert.Single(older.Changes).Kind);
    }

    [Fact]
    public async Task A_revoked_key_the_desk_does_not_hold_is_refused()
    {
        var result = await _recipients.AddKeysAsync("default", _bobRevoked, CancellationToken.None);

        Assert.StartsWith("nothing was added", result.Refusal, StringComparison.Ordinal);
        Assert.Contains("the key is revoked", result.Refusal, StringComparison.Ordinal);
        Assert.Empty(await _store.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Key_data_with_one_unusable_new_key_adds_none_of_them()
    {
        var mixed = _alice.Concat(_signOnly).ToArray();

        var result = await _recipients.AddKeysAsync("default", mixed, CancellationToken.None);

        Assert.True(result.IsRefused);
        Assert.Contains("for signing only", result.Refusal, StringComparison.Ordinal);
        Assert.Equal(KeyChangeKind.Refused, Assert.Single(result.Changes).Kind);
        Assert.Equal(2, result.Read.Count);
        Assert.Empty(await _store.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_desks_last_usable_key_is_not_removed_until_another_one_is_there()
    {
        await _recipients.AddKeysAsync("default", _alice, CancellationToken.None);

        var refused = await _recipients.RemoveKeyAsync(_aliceFingerprint.ToLowerInvariant(), null, CancellationToken.None);

        Assert.StartsWith($"{_aliceFingerprint} is the last usable recipient key of desk 'default'", refused.Refusal, StringComparison.Ordinal);
        Assert.Contains("nothing was removed", refused.Refusal, StringComparison.Ordinal);
        Assert.Equal(_aliceFingerprint, Assert.Single(await _store.ListAsync(CancellationToken.None)).Fingerprint);

        await _recipients.AddKeysAsync("default", _bob, CancellationToken.None);
        var removed = await _recipients.RemoveKeyAsync(_aliceFingerprint, "default", CancellationToken.None);

        Assert.Null(removed.Refusal);
        Assert.Equal(KeyChangeKind.Removed, Assert.Single(removed.Changes).Kind);
        Assert.Equal(_bobFingerprint, Assert.Single(await _store.ListAsync(CancellationToken.None)).Fingerprint);
    }

    [Fact]
    public async Task Removing_from_every_desk_is_refused_whole_when_one_desk_would_be_left_without_a_key()
    {
        await _recipients.AddKeysAsync("default", _alice, CancellationToken.None);
        await _recipients.AddKeysAsync("default", _bob, CancellationToken.None);
        Assert.False((await _recipients.CreateDeskAsync("politics", 30, _alice, CancellationToken.None)).IsRefused);

        var refused = await _recipients.RemoveKeyAsync(_aliceFingerprint, null, CancellationToken.None);

        Assert.StartsWith($"{_aliceFingerprint} is the last usable recipient key of desk 'politics'", refused.Refusal, StringComparison.Ordinal);
        Assert.Equal(3, (await _store.ListAsync(CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_revoked_last_key_can_be_removed_since_it_no_longer_serves()
    {
        await _recipients.AddKeysAsync("default", _bob, CancellationToken.None);
        var revocation = await _recipients.AddKeysAsync("default", _bobRevoked, CancellationToken.None);

        var removed = await _recipients.RemoveKeyAsync(_bobFingerprint, "default", CancellationToken.None);

        Assert.Equal("desk 'default' has no usable recipient key; add one with `secureintake keys add FILE --desk default`", Assert.Single(revocation.BlockingProblems));
        Assert.Null(removed.Refusal);
        Assert.Empty(await _store.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_desk_is_created_only_with_exactly_one_usable_key()
    {
        var twoKeys = await _recipients.CreateDeskAsync("sports", 30, _alice.Concat(_bob).ToArray(), CancellationToken.None);
        var signOnly = await _recipients.CreateDeskAsync("sports", 30, _signOnly, CancellationToken.None);
        var created = await _recipients.CreateDeskAsync(" sports ", 30, _alice, CancellationToken.None);

        Assert.Contains("exactly one usable public key, and this holds 2", twoKeys.Refusal, StringComparison.Ordinal);
        Assert.Contains("for signing only", signOnly.Refusal, StringComparison.Ordinal);
        Assert.Null(created.Refusal);
        Assert.Equal(new KeyChange("sports", _aliceFingerprint, KeyChangeKind.Added), Assert.Single(created.Changes));
        Assert.Contains("sports", await _store.DeskNamesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Adding_to_an_unknown_desk_is_an_error_that_stores_nothing()
    {
        await Assert.ThrowsAsync<UnknownDeskException>(() => _recipients.AddKeysAsync("nowhere", _alice, CancellationToken.None));

        Assert.Empty(await _store.ListAsync(CancellationToken.None));
    }
}
