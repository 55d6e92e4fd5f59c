using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Codenames;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Replies;
using SecureIntake.Core.Status;
using SecureIntake.Core.Storage;
using SecureIntake.Core.Triage;

namespace SecureIntake.Core;

public static class CoreServices
{
    /// <summary>Database, migrations and recipient keys; options are validated when the host starts.</summary>
    public static IServiceCollection AddSecureIntakeCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatabaseOptions>().Bind(configuration.GetSection(DatabaseOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
        services.AddSingleton(provider => NpgsqlDataSource.Create(provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<Migrator>();
        services.AddSingleton<RecipientStore>();
        services.AddSingleton<RecipientKeyCheck>();
        services.AddSingleton<DeskRecipients>();
        services.AddOptions<BlobStoreOptions>().Bind(configuration.GetSection(BlobStoreOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BlobStoreOptions>, BlobStoreOptionsValidator>();
        services.AddSingleton<BlobStore>();
        services.AddSingleton<IntakeService>();
        services.AddSingleton<MailLedger>();
        services.AddSingleton<ThreadReplies>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<DeskSessions>();
        services.AddSingleton<TriageListing>();
        services.AddSingleton<TriageActions>();
        services.AddSingleton<SubmissionArchive>();
        services.AddTransient<RetentionSweep>();
        services.AddSingleton<ServiceStatus>();
        services.AddOptions<EditorOptions>().Bind(configuration.GetSection(EditorOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EditorOptions>, EditorOptionsValidator>();
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<EditorOptions>>().Value;
            return new PasswordHasher(options.PasswordMemoryKiB, options.PasswordIterations);
        });
        services.AddSingleton<EditorStore>();
        services.AddSingleton<DeskMembership>();
        services.AddTransient<BatchArrivedJob>();
        services.AddTransient<OrphanBlobSweep>();
        services.AddSingleton<Grants.ItemKeyPackets>();
        services.AddSingleton<Grants.ItemReaders>();
        return services;
    }

    /// <summary>Witness codenames; only the web role needs them (and their pepper).</summary>
    public static IServiceCollection AddSecureIntakeCodenames(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CodenameOptions>().Bind(configuration.GetSection(CodenameOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CodenameOptions>, CodenameOptionsValidator>();
        services.AddSingleton<Codenames.Codenames>();
        return services;
    }
}
