using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Options;
using SecureIntake.Core;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Storage;
using SecureIntake.Core.Triage;
using SecureIntake.Mail;
using SecureIntake.Mail.Ingest;
using SecureIntake.Mail.Notify;

namespace SecureIntake.Server.Hosting;

internal static class ServiceRegistration
{
    public const string HangfireSchema = "hangfire";

    /// <summary>How long a job whose worker stopped renewing it stays invisible to the other workers.</summary>
    public static readonly TimeSpan JobInvisibilityTimeout = TimeSpan.FromMinutes(1);

    /// <summary>What every process needs: the core, and Hangfire's storage (the web role only enqueues).</summary>
    public static IServiceCollection AddSecureIntake(this IServiceCollection services, IConfiguration configuration, ServiceRoles roles)
    {
        services.AddSecureIntakeCore(configuration);
        services.AddSecureIntakeMail(configuration);
        services.AddHangfire((provider, hangfire) => hangfire
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(
                bootstrap => bootstrap.UseNpgsqlConnection(provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString),
                new PostgreSqlStorageOptions
                {
                    SchemaName = HangfireSchema,
                    PrepareSchemaIfNecessary = true,
                    // A job held by a worker that died (SIGKILL, a node lost) goes back to the queue this long after its
                    // worker last showed it was alive, not after the fixed 30 minutes that would hold a triage job back.
                    UseSlidingInvisibilityTimeout = true,
                    InvisibilityTimeout = JobInvisibilityTimeout,
                    // Hangfire's locks are rows that a killed worker never deletes (one taken to change a job's state
                    // among them): another worker may take such a lock once it is this old, not after 10 minutes.
                    DistributedLockTimeout = JobInvisibilityTimeout,
                })
            // A finished job's rows hold exact times next to a submission id; keep them only briefly.
            .WithJobExpirationTimeout(TimeSpan.FromMinutes(30)));

        if (roles.HasFlag(ServiceRoles.Worker))
        {
            services.AddHangfireServer(server => server.WorkerCount = Math.Max(2, Environment.ProcessorCount * 2));
            services.AddHostedService<RecurringJobs>();
            services.AddMailboxWatcher(configuration);
        }

        return services;
    }

    /// <summary>Registers the recurring jobs when the worker starts; re-registering an existing one only updates it.</summary>
    private sealed class RecurringJobs(IRecurringJobManager recurringJobs, IOptions<MailOptions> mail) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (mail.Value.Imap.Enabled)
            {
                recurringJobs.AddOrUpdate<ImapGateway>("mail-gateway", gateway => gateway.RunAsync(CancellationToken.None),
                    Cron.MinuteInterval(mail.Value.Imap.IntervalMinutes));
            }
            else
            {
                recurringJobs.RemoveIfExists("mail-gateway");
            }

            if (mail.Value.Smtp.Enabled)
            {
                recurringJobs.AddOrUpdate<EditorNotifications>("editor-notifications", notifications => notifications.RunAsync(CancellationToken.None),
                    Cron.MinuteInterval(mail.Value.Smtp.WindowMinutes));
            }
            else
            {
                recurringJobs.RemoveIfExists("editor-notifications");
            }

            recurringJobs.AddOrUpdate<RecipientKeyCheck>("recipient-key-check", check => check.RunAsync(CancellationToken.None), Cron.Daily(6));
            recurringJobs.AddOrUpdate<OrphanBlobSweep>("orphan-blob-sweep", sweep => sweep.RunAsync(CancellationToken.None), Cron.Hourly());
            recurringJobs.AddOrUpdate<RetentionSweep>("retention-sweep", sweep => sweep.RunAsync(CancellationToken.None), Cron.Hourly(30));
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
