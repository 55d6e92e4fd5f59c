namespace SecureIntake.Desk;

/// <summary>A failure the editor can act on; its message is shown as it is, on one line.</summary>
internal sealed class DeskToolException(string message) : Exception(message);

internal static class Failure
{
    public static int Report(string message)
    {
        Console.Error.WriteLine($"secureintake-desk: {message}");
        return 1;
    }
}
