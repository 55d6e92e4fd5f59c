using Microsoft.Extensions.Options;
using Npgsql;
using SecureIntake.Core.Recipients;
using SecureIntake.Crypto.Keys;
using SecureIntake.Server.Hosting;

namespace SecureIntake.Server.CommandLine;

/// <summary>Turns the failures an admin can fix into one clear line on stderr and a distinct exit code.</summary>
internal static class CommandErrors
{
    public const int Refused = 1;
    public const int BadSettings = 2;
    public const int Unavailable = 3;

    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (e is SettingsException or OptionsValidationException)
        {
            return Fail(BadSettings, e is OptionsValidationException validation ? string.Join("; ", validation.Failures) : e.Message);
        }
        catch (Exception e) when (e is KeyFileException or UnknownDeskException or DeskRefusedException or StartupRefusedException or SecureIntake.Core.Editors.EditorRefusedException)
        {
            return Fail(Refused, e.Message);
        }
        catch (NpgsqlException e)
        {
            return Fail(Unavailable, $"cannot use the database ({e.Message}); check Database:ConnectionString and that PostgreSQL is running");
        }
    }

    public static int Fail(int exitCode, string message)
    {
        Console.Error.WriteLine($"secureintake: {message}");
        return exitCode;
    }
}
