using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Codenames;
using SecureIntake.Mail.Ingest;

namespace SecureIntake.Mail;

public static class MailServices
{
    /// <summary>The mail gateway and the MTA pipe's intake; the gateway runs only when Mail:Imap:Host is set.</summary>
    public static IServiceCollection AddSecureIntakeMail(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MailOptions>().Bind(configuration.GetSection(MailOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MailOptions>, MailOptionsValidator>();
        // The pepper keys the ledger's digests and the acknowledgement guard; binding the section again is harmless
        // in a process that also runs the web role.
        services.AddOptions<CodenameOptions>().Bind(configuration.GetSection(CodenameOptions.Section));
        services.AddSingleton<MailKeys>();
        services.AddSingleton<MessageIntake>();
        services.AddSingleton<AcknowledgementGuard>();
        services.AddSingleton<GatewayMeter>();
        services.AddTransient<ImapGateway>();
        Notify.NotifyServices.AddEditorNotifications(services, configuration);
        services.AddSingleton<Notify.Acknowledgements>();
        return services;
    }

    /// <summary>
    /// The IDLE watcher, for the worker role only (it holds the mailbox password), and only when Mail:Imap:Host is set
    /// and Mail:Imap:Idle is not false.
    /// </summary>
    public static IServiceCollection AddMailboxWatcher(this IServiceCollection services, IConfiguration configuration)
    {
        var imap = configuration.GetSection(MailOptions.Section).GetSection(nameof(MailOptions.Imap)).Get<ImapOptions>() ?? new ImapOptions();
        if (imap is { Enabled: true, Idle: true })
        {
            services.AddHostedService<MailboxWatcher>();
        }

        return services;
    }
}
