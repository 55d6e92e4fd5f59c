using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace SecureIntake.Server.CommandLine;

/// <summary>
/// Adds our configuration sources on top of the host's defaults (appsettings.json and environment), then the
/// secrets read from files (<see cref="SecretSettings"/>). Every command that reads settings comes through here.
/// </summary>
internal static class Settings
{
    public const string EnvironmentPrefix = "SECUREINTAKE_";

    public static void Apply(IConfigurationManager configuration, ParseResult parse)
    {
        var arguments = SettingArguments(parse).ToArray();
        if (parse.GetValue(Commands.ConfigFile) is { } file)
        {
            if (!file.Exists)
            {
                throw new SettingsException($"the settings file '{file.FullName}' given with --config does not exist");
            }

            configuration.AddJsonFile(file.FullName, optional: false, reloadOnChange: false);
        }

        configuration.AddEnvironmentVariables(EnvironmentPrefix);
        configuration.AddCommandLine(arguments);
        SecretSettings.ApplyFiles(configuration);
    }

    /// <summary>Arguments the commands do not know must be settings, written --Section:Key=value.</summary>
    private static IEnumerable<string> SettingArguments(ParseResult parse)
    {
        SecretSettings.RefuseInArguments(parse.UnmatchedTokens);
        foreach (var token in parse.UnmatchedTokens)
        {
            if (!token.StartsWith("--", StringComparison.Ordinal) || !token.Contains('=', StringComparison.Ordinal))
            {
                // Only what comes before '=': a mistyped setting may still carry a secret.
                throw new SettingsException($"unknown argument '{token.Split('=')[0]}' (settings are written --Section:Key=value; see --help)");
            }

            yield return token;
        }
    }
}

internal sealed class SettingsException(string message) : Exception(message);
