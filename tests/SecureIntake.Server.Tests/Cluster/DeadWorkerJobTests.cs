using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Cluster;

/// <summary>
/// A worker that dies while it holds a triage job leaves the job fetched and, if it died changing the job's state,
/// that job's state lock behind. The crash test kills a worker at a random point of a job; this one sets up the
/// worst point exactly: another worker must take the job over within a couple of minutes, not after Hangfire's
/// default 30 minutes (fetched job) or 10 minutes (lock).
/// </summary>
public sealed class DeadWorkerJobTests() : ClusterTest("si-cluster-dead-worker-")
{
    [Fact]
    public async Task A_triage_job_held_by_a_dead_worker_with_its_state_lock_is_run_by_another_worker_within_two_minutes()
    {
        await using var nodes = new ClusterNodes(Database, Blobs.Path);
        var web = await nodes.StartWebAsync();
        Assert.NotNull(await ClusterWitnesses.SubmitAsync(web.Address!, web.Address!, WitnessTip.Make(0)));

        // As a worker leaves them when SIGKILL lands while it moves the job to Processing: the job fetched and its
        // state lock taken two minutes ago, and nothing renewing either since.
        var job = await nodes.ScalarAsync<long>("SELECT jobid FROM hangfire.jobqueue");
        await nodes.ScalarAsync<int>("""
            WITH fetched AS (UPDATE hangfire.jobqueue SET fetchedat = now() - interval '2 minutes' RETURNING 1),
                 locked AS (INSERT INTO hangfire.lock (resource, acquired) VALUES ('hangfire:job:' || @Job || ':state-lock', now() - interval '2 minutes') RETURNING 1)
            SELECT (SELECT count(*) FROM fetched)::int + (SELECT count(*) FROM locked)::int
            """, ("Job", job.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        await nodes.StartWorkerAsync();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (await nodes.ScalarAsync<string>("SELECT statename FROM hangfire.job WHERE id = @Job", ("Job", job)) != "Succeeded")
        {
            Assert.True(DateTime.UtcNow < deadline, "the triage job a dead worker held was not run by another worker within two minutes");
            await Task.Delay(100);
        }

        Assert.Equal(1L, await nodes.ScalarAsync<long>("SELECT count(*) FROM triage_checks"));
        await nodes.StopAllAsync();
    }
}
