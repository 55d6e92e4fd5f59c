using System.Security.Cryptography;
using System.Text;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.Options;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Codenames;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Replies;
using SecureIntake.Crypto.Keys;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests.Replies;

public sealed partial class ThreadRepliesTests : IAsyncLifetime, IDisposable
{
    private readonly GnuPgHome _gpg = new();
    private readonly TemporaryDirectory _blobDirectory = new("si-blobs-");
    private NpgsqlDataSource _dataSource = null!;
    private IntakeService _intake = null!;
    private ThreadReplies _replies = null!;

    public async Task InitializeAsync()
    {
        _dataSource = await CoreDatabase.CreateAsync();
        await IntakeWorld.PrepareAsync(_dataSource, _gpg, TimeProvider.System);
        var recipients = new RecipientStore(_dataSource, TimeProvider.System);
        var blobs = IntakeWorld.Blobs(_blobDirectory);
        _intake = new IntakeService(recipients, blobs, _dataSource, TimeProvider.System);
        _replies = new ThreadReplies(recipients, blobs, _dataSource, TimeProvider.System);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public void Dispose()
    {
        _gpg.Dispose();
        _blobDirectory.Dispose();
    }

    [Fact]
    public async Task The_witness_reads_replies_in_the_order_written_and_the_desk_can_read_them_with_gpg()
    {
        var secrets = NewSecrets();
        var submission = await SubmitAsync(secrets);

        Assert.Equal(1, await _replies.AddAsync(DeskScope.Everything, submission, "Спасибо. Можете прислать видео целиком?", CancellationToken.None));
        Assert.Equal(2, await _replies.AddAsync(DeskScope.Everything, submission, "Қай көшеде болды?\n<b>not markup</b>", CancellationToken.None));

        var read = await _replies.ReadAsync(submission, secrets.UnlockKey, CancellationToken.None);
        Assert.Equal(["Спасибо. Можете прислать видео целиком?", "Қай көшеде болды?\n<b>not markup</b>"], read.Select(r => r.Text));
        Assert.All(read, r => Assert.Equal(0, r.WrittenAt.Second));

        var firstReply = await ScalarAsync<Guid>($"SELECT id FROM submission_items WHERE submission_id = '{submission}' AND reply_number = 1");
        var byDesk = (await _gpg.DecryptAsync(Path.Combine(_blobDirectory.Path, firstReply.ToString("N")))).EnsureSuccess("gpg --decrypt").Output;
        Assert.Equal("Спасибо. Можете прислать видео целиком?", Encoding.UTF8.GetString(byDesk));
    }

    [Fact]
    public async Task Replies_cannot_be_read_without_the_threads_unlock_key()
    {
        var secrets = NewSecrets();
        var submission = await SubmitAsync(secrets);
        var other = NewSecrets();
        var otherSubmission = await SubmitAsync(other);
        await _replies.AddAsync(DeskScope.Everything, submission, "only for the witness", CancellationToken.None);

        await Assert.ThrowsAnyAsync<CryptographicException>(() => _replies.ReadAsync(submission, other.UnlockKey, CancellationToken.None));

        // A sealed key copied onto another thread does not open there with that thread's own unlock key.
        await ExecuteAsync($"UPDATE submissions SET reply_secret_key_sealed = (SELECT reply_secret_key_sealed FROM submissions WHERE id = '{submission}') WHERE id = '{otherSubmission}'");
        await Assert.ThrowsAnyAsync<CryptographicException>(() => _replies.ReadAsync(otherSubmission, secrets.UnlockKey, CancellationToken.None));
    }

    [Fact]
    public async Task The_stored_reply_key_says_nothing_of_when_the_witness_wrote()
    {
        var from = DateTimeOffset.UtcNow;
        var submission = await SubmitAsync(NewSecrets());
        var certificate = await ScalarAsync<byte[]>($"SELECT reply_certificate FROM submissions WHERE id = '{submission}'");
        var until = DateTimeOffset.UtcNow;

        var threadKey = RecipientKeyReader.Read(certificate, DateTimeOffset.UtcNow).Single().Key!;
        Assert.Equal(ThreadKey.FixedCreationTime, threadKey.EncryptionKeyCreated.UtcDateTime);
        var listing = (await _gpg.RunAsync(["--list-packets"], certificate)).EnsureSuccess("gpg --list-packets").OutputText;

        // gpg prints key and signature times as "created <unix seconds>" and signature subpackets as "sig created <day>".
        // None may fall on the day the witness wrote, on either side of midnight if the test ran across it.
        var times = CreatedSeconds().Matches(listing).Select(m => DateTimeOffset.FromUnixTimeSeconds(long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))).ToList();
        var days = CreatedDays().Matches(listing).Select(m => DateOnly.ParseExact(m.Groups[1].Value, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(times);
        Assert.NotEmpty(days);
        var writtenOn = new[] { DateOnly.FromDateTime(from.UtcDateTime), DateOnly.FromDateTime(until.UtcDateTime) };
        Assert.All(times, t => Assert.DoesNotContain(DateOnly.FromDateTime(t.UtcDateTime), writtenOn));
        Assert.All(days, d => Assert.DoesNotContain(d, writtenOn));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"(?<!sig )created (\d+)")]
    private static partial System.Text.RegularExpressions.Regex CreatedSeconds();

    [System.Text.RegularExpressions.GeneratedRegex(@"sig created (\d{4}-\d{2}-\d{2})")]
    private static partial System.Text.RegularExpressions.Regex CreatedDays();

    [Fact]
    public async Task A_submission_without_a_codename_gets_no_reply_and_nothing_is_stored()
    {
        Guid submission;
        await using (var draft = await _intake.StartAsync("default", "mail", CancellationToken.None))
        {
            await draft.AddAsync(ItemKind.Email, null, "message/rfc822", new MemoryStream("Subject: tip\r\n\r\nhello"u8.ToArray()), CancellationToken.None);
            submission = await draft.CommitAsync(CancellationToken.None);
        }

        var blobsBefore = Directory.GetFiles(_blobDirectory.Path).Length;
        var refused = await Assert.ThrowsAsync<ReplyRefusedException>(() => _replies.AddAsync(DeskScope.Everything, submission, "hello?", CancellationToken.None));
        Assert.Contains("without a codename", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ReplyRefusedException>(() => _replies.AddAsync(DeskScope.Everything, submission, "   ", CancellationToken.None));
        Assert.Equal(blobsBefore, Directory.GetFiles(_blobDirectory.Path).Length);
        Assert.Equal(0, await ScalarAsync<long>($"SELECT count(*) FROM submission_items WHERE submission_id = '{submission}' AND kind = 'reply'"));
    }

    private static CodenameSecrets NewSecrets() => new(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));

    private async Task<Guid> SubmitAsync(CodenameSecrets secrets)
    {
        await using var draft = await _intake.StartAsync("default", "web", CancellationToken.None);
        await draft.AddAsync(ItemKind.Message, null, "text/plain; charset=utf-8", new MemoryStream("Я видел это."u8.ToArray()), CancellationToken.None);
        draft.SetCodename(secrets);
        return await draft.CommitAsync(CancellationToken.None);
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
