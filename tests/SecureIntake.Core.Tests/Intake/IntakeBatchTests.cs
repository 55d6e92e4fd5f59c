using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests.Intake;

public sealed class IntakeBatchTests : IAsyncLifetime, IDisposable
{
    private readonly GnuPgHome _gpg = new();
    private readonly TemporaryDirectory _blobDirectory = new("si-blobs-");
    private NpgsqlDataSource _dataSource = null!;
    private IntakeService _intake = null!;

    public async Task InitializeAsync()
    {
        _dataSource = await CoreDatabase.CreateAsync();
        await IntakeWorld.PrepareAsync(_dataSource, _gpg, TimeProvider.System);
        _intake = new IntakeService(new RecipientStore(_dataSource, TimeProvider.System), IntakeWorld.Blobs(_blobDirectory), _dataSource, TimeProvider.System);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public void Dispose()
    {
        _gpg.Dispose();
        _blobDirectory.Dispose();
    }

    [Fact]
    public async Task A_group_commit_gets_one_triage_job_that_checks_every_submission_in_it()
    {
        var submissions = await CommitBatchAsync(3);

        var (submissionIds, batchIds) = await TheOneJobsArgumentsAsync();
        Assert.Equal(submissions.Order(), submissionIds.Order());
        await Job().RunManyAsync(submissionIds, batchIds, CancellationToken.None);

        Assert.Equal(submissions.Order(), await ListAsync("SELECT submission_id FROM triage_checks"));
        Assert.Equal(3, await CountAsync("SELECT count(DISTINCT batch_id) FROM triage_checks"));
    }

    [Fact]
    public async Task A_damaged_item_fails_the_batch_job_after_the_healthy_submissions_are_recorded_and_a_retry_still_fails_only_on_it()
    {
        var submissions = await CommitBatchAsync(3);
        var damagedSubmission = submissions[1];
        var damagedItem = (await ListAsync($"SELECT id FROM submission_items WHERE submission_id = '{damagedSubmission}' AND kind = 'email'")).Single();
        await File.AppendAllTextAsync(Path.Combine(_blobDirectory.Path, damagedItem.ToString("N")), "x");

        var (submissionIds, batchIds) = await TheOneJobsArgumentsAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => Job().RunManyAsync(submissionIds, batchIds, CancellationToken.None));
        Assert.Equal(submissions.Where(s => s != damagedSubmission).Order(), await ListAsync("SELECT submission_id FROM triage_checks"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => Job().RunManyAsync(submissionIds, batchIds, CancellationToken.None));
        Assert.Equal(2, await CountAsync("SELECT count(*) FROM triage_checks"));
    }

    private async Task<List<Guid>> CommitBatchAsync(int count)
    {
        await using var batch = await _intake.StartBatchAsync("default", "mail", CancellationToken.None);
        for (var i = 0; i < count; i++)
        {
            var draft = batch.Start();
            await draft.AddAsync(ItemKind.Email, null, "message/rfc822", new MemoryStream(System.Text.Encoding.ASCII.GetBytes($"Subject: {i}\r\n\r\ntip {i}\r\n")),
                CancellationToken.None);
        }

        return [.. await batch.CommitAsync(CancellationToken.None)];
    }

    private BatchArrivedJob Job() => new(_dataSource, IntakeWorld.Blobs(_blobDirectory), NullLogger<BatchArrivedJob>.Instance);

    /// <summary>The arguments Hangfire stored for the only job in the queue: each a JSON text of its own.</summary>
    private async Task<(Guid[] Submissions, Guid[] Batches)> TheOneJobsArgumentsAsync()
    {
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM hangfire.job"));
        await using var command = _dataSource.CreateCommand("SELECT arguments::text FROM hangfire.job");
        var arguments = JsonSerializer.Deserialize<string[]>((string)(await command.ExecuteScalarAsync())!)!;
        return (JsonSerializer.Deserialize<Guid[]>(arguments[0])!, JsonSerializer.Deserialize<Guid[]>(arguments[1])!);
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<List<Guid>> ListAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql + " ORDER BY 1");
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<Guid>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }
}
