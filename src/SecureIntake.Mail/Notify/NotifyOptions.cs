using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace SecureIntake.Mail.Notify;

/// <summary>How editors' notifications look on the wire (the schedule itself is Mail:Smtp:WindowMinutes).</summary>
public sealed class NotifyOptions
{
    public const string Section = "Mail:Notify";

    /// <summary>
    /// On by default: every editor with an address gets a notification at every window, news or not, so whoever
    /// watches their mail cannot tell when witnesses wrote. Off: a window with nothing new on an editor's desks
    /// sends them nothing, which tells that observer in which windows something arrived.
    /// </summary>
    public bool SendWhenNothingNew { get; set; } = true;

    /// <summary>Every encrypted notification's plaintext is padded to exactly this size, so its length says nothing of counts or desk names.</summary>
    public int PaddedBytes { get; set; } = 4096;

    /// <summary>How long one SMTP step (connect, greeting, each command) may take before the window is given up.</summary>
    public int SmtpTimeoutSeconds { get; set; } = 60;
}

internal sealed class NotifyOptionsValidator : IValidateOptions<NotifyOptions>
{
    public ValidateOptionsResult Validate(string? name, NotifyOptions options)
    {
        var problems = new List<string>();
        if (options.PaddedBytes is < 1024 or > 65536)
        {
            problems.Add("Mail:Notify:PaddedBytes must be 1024-65536");
        }

        if (options.SmtpTimeoutSeconds is < 1 or > 3600)
        {
            problems.Add("Mail:Notify:SmtpTimeoutSeconds must be 1-3600");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

public static class NotifyServices
{
    /// <summary>The editors' notification job and its settings (Mail:Notify).</summary>
    public static IServiceCollection AddEditorNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<NotifyOptions>().Bind(configuration.GetSection(NotifyOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<NotifyOptions>, NotifyOptionsValidator>();
        services.AddTransient<EditorNotifications>();
        return services;
    }
}
