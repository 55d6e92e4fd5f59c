using System.Net;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>A desk server whose sessions time out after 20 idle seconds, so the time-out can be watched end to end.</summary>
public sealed class ShortSessionDesk : IAsyncLifetime, IDisposable
{
    public const int IdleSeconds = 20;

    public DeskService Desk { get; } = new([$"--Editors:SessionIdleTimeout=00:00:{IdleSeconds}"]);

    public Task InitializeAsync() => Desk.InitializeAsync();

    public Task DisposeAsync() => Desk.DisposeAsync();

    public void Dispose() => Desk.Dispose();
}

/// <summary>The idle time-out through the real server (the rules themselves are tested on a moved clock in Core).</summary>
public sealed class DeskTimeoutTests(ShortSessionDesk fixture) : IClassFixture<ShortSessionDesk>
{
    private readonly DeskService _desk = fixture.Desk;

    [Fact]
    public async Task A_desk_session_left_idle_past_the_configured_time_out_signs_out_while_one_in_use_stays_signed_in()
    {
        var idleSecret = await _desk.AddEditorAsync("quinn");
        var busySecret = await _desk.AddEditorAsync("rosa");
        using var idle = await _desk.SignedInBrowserAsync("quinn", idleSecret);
        using var busy = await _desk.SignedInBrowserAsync("rosa", busySecret);
        Assert.Equal(HttpStatusCode.OK, (await idle.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);

        // Waits on the server's own record of the last use (in the database's clock, which the server shares), not
        // on a guess of how long requests take; the busy editor comes back whenever a quarter of the time-out passed.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!await IdleLongerThanAsync("quinn", ShortSessionDesk.IdleSeconds + 1))
        {
            Assert.True(DateTime.UtcNow < deadline, "quinn's session never looked idle long enough");
            if (await IdleLongerThanAsync("rosa", ShortSessionDesk.IdleSeconds / 4))
            {
                Assert.Equal(HttpStatusCode.OK, (await busy.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);
            }

            await Task.Delay(250);
        }

        using var after = await idle.GetAsync(new Uri("/desk", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Equal("/desk/sign-in", after.Headers.Location!.ToString());
        Assert.Equal(0L, await _desk.ScalarAsync<long>("SELECT count(*) FROM desk_sessions s JOIN editors e ON e.id = s.editor_id WHERE e.name = 'quinn'"));
        Assert.Equal(HttpStatusCode.OK, (await busy.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);
    }

    private Task<bool> IdleLongerThanAsync(string editor, int seconds) => _desk.ScalarAsync<bool>($"""
        SELECT coalesce(bool_and(clock_timestamp() - s.last_seen_at > interval '{seconds} seconds'), false)
        FROM desk_sessions s JOIN editors e ON e.id = s.editor_id WHERE e.name = '{editor}'
        """);
}
