using Microsoft.Extensions.Options;
using Npgsql;

namespace SecureIntake.Core.Storage;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>
    /// An Npgsql connection string, e.g. "Host=/run/postgresql;Database=secureintake;Username=secureintake". A password
    /// is best kept out of it and read from the file named by Database:PasswordFile, which adds it here at start.
    /// </summary>
    public string ConnectionString { get; set; } = "";
}

internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Fail(
                $"{DatabaseOptions.Section}:ConnectionString is not set. Give a PostgreSQL connection string in appsettings.json, " +
                "as SECUREINTAKE_Database__ConnectionString, or as --Database:ConnectionString=... (a password goes in a file named by Database:PasswordFile)");
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            return string.IsNullOrEmpty(builder.Host)
                ? ValidateOptionsResult.Fail($"{DatabaseOptions.Section}:ConnectionString names no Host (a server name or a Unix socket directory)")
                : ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            return ValidateOptionsResult.Fail($"{DatabaseOptions.Section}:ConnectionString is not a valid connection string: {e.Message}");
        }
    }
}
