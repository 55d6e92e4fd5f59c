using System.Net;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>A desk server whose sessions time out after 20 idle seconds and end a minute after sign-in, so both can be watched end to end.</summary>
public sealed class ShortSessionDesk : IAsyncLifetime, IDisposable
{
    public const int IdleSeconds = 20;
    public const int LifetimeSeconds = 60;

    public DeskService Desk { get; } = new([$"--Editors:SessionIdleTimeout=00:00:{IdleSeconds}", "--Editors:SessionLifetime=00:01:00"]);

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

    [Fact]
    public async Task A_desk_session_in_constant_use_ends_at_its_configured_lifetime()
    {
        var secret = await _desk.AddEditorAsync("sam");
        using var sam = await _desk.SignedInBrowserAsync("sam", secret);

        var deadline = DateTime.UtcNow.AddSeconds(180);
        while (!await _desk.ScalarAsync<bool>($"""
            SELECT coalesce(bool_and(clock_timestamp() - s.created_at > interval '{ShortSessionDesk.LifetimeSeconds + 1} seconds'), false)
            FROM desk_sessions s JOIN editors e ON e.id = s.editor_id WHERE e.name = 'sam'
            """))
        {
            Assert.True(DateTime.UtcNow < deadline, "sam's session never reached its lifetime");
            // In use until 5 s before the lifetime (far less than the idle time-out): a request closer to it could
            // arrive after the session ended, so none is made then, and none is needed to keep it from idling out.
            if (await IdleLongerThanAsync("sam", ShortSessionDesk.IdleSeconds / 4) && await YoungerThanAsync("sam", ShortSessionDesk.LifetimeSeconds - 5))
            {
                Assert.Equal(HttpStatusCode.OK, (await sam.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);
            }

            await Task.Delay(250);
        }

        using var after = await sam.GetAsync(new Uri("/desk", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Equal("/desk/sign-in", after.Headers.Location!.ToString());
    }

    private Task<bool> YoungerThanAsync(string editor, int seconds) => _desk.ScalarAsync<bool>($"""
        SELECT coalesce(bool_and(clock_timestamp() - s.created_at < interval '{seconds} seconds'), false)
        FROM desk_sessions s JOIN editors e ON e.id = s.editor_id WHERE e.name = '{editor}'
        """);

    private Task<bool> IdleLongerThanAsync(string editor, int seconds) => _desk.ScalarAsync<bool>($"""
        SELECT coalesce(bool_and(clock_timestamp() - s.last_seen_at > interval '{seconds} seconds'), false)
        FROM desk_sessions s JOIN editors e ON e.id = s.editor_id WHERE e.name = '{editor}'
        """);
}
