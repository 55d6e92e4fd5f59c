using Microsoft.Extensions.Logging.Abstractions;
using SecureIntake.Core.Recipients;
using SecureIntake.Crypto.Keys;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests.Recipients;

public sealed class RecipientStoreTests : IAsyncLifetime, IDisposable
{
    private readonly GnuPgHome _gpg = new();
    private byte[] _expiresInTenDays = [];
    private byte[] _neverExpires = [];

    public async Task InitializeAsync()
    {
        var soon = await _gpg.GenerateAsync("<soon@test.invalid>", "ed25519", "cert,sign", "10d");
        await _gpg.AddSubkeyAsync(soon, "cv25519", "encr", "10d");
        _expiresInTenDays = await _gpg.ExportPublicAsync(soon);
        var never = await _gpg.GenerateAsync("<never@test.invalid>", "ed25519", "cert,sign", "never");
        await _gpg.AddSubkeyAsync(never, "cv25519", "encr", "never");
        _neverExpires = await _gpg.ExportPublicAsync(never);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _gpg.Dispose();

    [Fact]
    public async Task A_key_that_expires_after_it_was_added_is_listed_as_refused_and_blocks_intake()
    {
        await using var dataSource = await CoreDatabase.CreateAsync();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var store = new RecipientStore(dataSource, clock);
        var check = new RecipientKeyCheck(store, clock, NullLogger<RecipientKeyCheck>.Instance);
        await store.AddAsync(RecipientStore.DefaultDesk, Usable(_expiresInTenDays), CancellationToken.None);

        var before = await store.ListAsync(CancellationToken.None);
        var problemsBefore = await check.FindBlockingProblemsAsync(CancellationToken.None);
        clock.Now = clock.Now.AddDays(11);
        var after = await store.ListAsync(CancellationToken.None);
        var problemsAfter = await check.FindBlockingProblemsAsync(CancellationToken.None);

        Assert.True(Assert.Single(before).Verdict.IsUsable);
        Assert.Empty(problemsBefore);
        Assert.Contains("expired", Assert.Single(after).Verdict.RefusalReason, StringComparison.Ordinal);
        Assert.Equal("desk 'default' has no usable recipient key; add one with `secureintake keys add FILE --desk default`", Assert.Single(problemsAfter));
    }

    [Fact]
    public async Task Keys_are_kept_per_desk_and_removal_can_target_one_desk()
    {
        await using var dataSource = await CoreDatabase.CreateAsync();
        await using (var addDesk = dataSource.CreateCommand("INSERT INTO desks (name) VALUES ('politics')"))
        {
            await addDesk.ExecuteNonQueryAsync();
        }

        var store = new RecipientStore(dataSource, TimeProvider.System);
        var key = Usable(_neverExpires);
        await store.AddAsync("default", key, CancellationToken.None);
        await store.AddAsync("politics", key, CancellationToken.None);
        await store.AddAsync("politics", Usable(_expiresInTenDays), CancellationToken.None);

        var removal = await store.RemoveAsync(key.Fingerprint, "politics", CancellationToken.None);
        var remaining = await store.ListAsync(CancellationToken.None);

        Assert.Equal(["politics"], removal.RemovedFrom);
        Assert.Contains(remaining, r => r.Desk == "default" && r.Fingerprint == key.Fingerprint);
        Assert.DoesNotContain(remaining, r => r.Desk == "politics" && r.Fingerprint == key.Fingerprint);
        await Assert.ThrowsAsync<UnknownDeskException>(() => store.AddAsync("sports", key, CancellationToken.None));
    }

    private static RecipientKey Usable(byte[] certificate) =>
        RecipientKeyReader.Read(certificate, DateTimeOffset.UtcNow).Single().Key!;
}
