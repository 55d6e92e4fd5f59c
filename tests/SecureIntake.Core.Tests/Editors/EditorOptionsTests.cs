using Microsoft.Extensions.Options;
using SecureIntake.Core.Editors;

namespace SecureIntake.Core.Tests.Editors;

public sealed class EditorOptionsTests
{
    [Theory]
    [InlineData("00:30:00", "12:00:00", true)]
    [InlineData("00:00:05", "00:00:05", true)]
    [InlineData("00:00:04", "12:00:00", false)]
    [InlineData("01:00:00", "00:30:00", false)]
    [InlineData("00:30:00", "1.00:00:01", false)]
    public void Session_time_outs_outside_their_bounds_stop_the_start_with_a_message_naming_the_settings(string idle, string lifetime, bool valid)
    {
        var options = new EditorOptions { SessionIdleTimeout = TimeSpan.Parse(idle, null), SessionLifetime = TimeSpan.Parse(lifetime, null) };

        var result = new EditorOptionsValidator().Validate(null, options);

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("Editors:SessionIdleTimeout", result.FailureMessage, StringComparison.Ordinal);
            Assert.Contains("SessionLifetime", result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_defaults_are_the_documented_half_hour_idle_and_twelve_hours_in_all()
    {
        var options = new EditorOptions();

        Assert.Equal(TimeSpan.FromMinutes(30), options.SessionIdleTimeout);
        Assert.Equal(TimeSpan.FromHours(12), options.SessionLifetime);
        Assert.True(new EditorOptionsValidator().Validate(null, Options.Create(options).Value).Succeeded);
    }
}
