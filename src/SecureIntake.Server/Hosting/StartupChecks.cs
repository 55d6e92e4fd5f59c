using Hangfire;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Storage;

namespace SecureIntake.Server.Hosting;

/// <summary>Before a role starts: settings valid, schema current, and every desk able to encrypt.</summary>
internal static class StartupChecks
{
    /// <summary>Validates settings, applies migrations (returning the ones applied now) and prepares Hangfire's schema.</summary>
    public static async Task<IReadOnlyList<string>> PrepareDatabaseAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        // Resolving the options runs their validation now, with a message naming the setting, rather than at first use.
        _ = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var applied = await services.GetRequiredService<Migrator>().MigrateAsync(cancellationToken);
        // Hangfire creates or upgrades its own schema when its storage is first built.
        _ = services.GetRequiredService<JobStorage>();
        return applied;
    }

    public static async Task EnsureIntakeCanEncryptAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var problems = await services.GetRequiredService<RecipientKeyCheck>().FindBlockingProblemsAsync(cancellationToken);
        if (problems.Count > 0)
        {
            throw new StartupRefusedException("refusing to start: " + string.Join("; ", problems));
        }
    }
}

internal sealed class StartupRefusedException(string message) : Exception(message);
