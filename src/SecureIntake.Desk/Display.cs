using System.Globalization;

namespace SecureIntake.Desk;

internal static class Display
{
    /// <summary>Times are shown in UTC, to the minute: editors in several time zones compare them.</summary>
    public static string Minute(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
}
