using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using SecureIntake.Core.Codenames;
using SecureIntake.Core.Storage;
using SecureIntake.Testing;
using SecureIntake.Web.Witness;
using SecureIntake.Web.Witness.Admission;

namespace SecureIntake.Server.Tests.Witness.Admission;

public sealed class FormTokenTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
    private readonly IOptions<IntakeLimits> _limits = Options.Create(new IntakeLimits { FormTokenHours = 12, PostsPerFormToken = 3, AdmissionWaitSeconds = 0 });
    private readonly FormTokens _tokens;
    private NpgsqlDataSource _dataSource = null!;

    public FormTokenTests() =>
        _tokens = new FormTokens(Options.Create(new CodenameOptions { Pepper = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) }), _limits, _clock);

    // A token's posts are counted in PostgreSQL, for every web node together.
    public async Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync());
        await new Migrator(_dataSource, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    [Fact]
    public void A_token_is_accepted_from_its_own_browser_until_it_expires()
    {
        var (browser, token) = IssueToNewBrowser();

        _clock.Advance(TimeSpan.FromHours(11.9));
        Assert.NotNull(_tokens.Read(Posting(browser), token));

        _clock.Advance(TimeSpan.FromHours(0.2));
        Assert.Null(_tokens.Read(Posting(browser), token));
    }

    [Fact]
    public void A_token_is_refused_from_another_browser_or_when_altered()
    {
        var (browser, token) = IssueToNewBrowser();
        var (otherBrowser, _) = IssueToNewBrowser();

        Assert.Null(_tokens.Read(Posting(otherBrowser), token));
        var altered = token[..5] + (token[5] == 'A' ? 'B' : 'A') + token[6..];
        Assert.Null(_tokens.Read(Posting(browser), altered));
        Assert.Null(_tokens.Read(Posting(browser), token + "A"));
        Assert.Null(_tokens.Read(Posting(browser), ""));
    }

    [Fact]
    public async Task One_token_serves_a_bounded_number_of_posts_and_each_new_form_page_brings_a_fresh_one()
    {
        using var admission = new IntakeAdmission(_limits, _clock, _dataSource);
        var (browser, token) = IssueToNewBrowser();
        var read = _tokens.Read(Posting(browser), token)!;

        for (var i = 0; i < 3; i++)
        {
            using var kept = await admission.AdmitAsync(read, CancellationToken.None);
            kept.Kept();
        }

        var replay = await Assert.ThrowsAsync<SubmissionRejectedException>(() => admission.AdmitAsync(read, CancellationToken.None));
        Assert.Equal(SubmissionProblem.CrossSite, replay.Problem);

        var context = Posting(browser);
        var fresh = _tokens.Read(context, _tokens.Issue(context))!;
        using var freshSlot = await admission.AdmitAsync(fresh, CancellationToken.None);
    }

    [Fact]
    public async Task Replaying_a_used_up_token_does_not_spend_the_hours_budget()
    {
        using var admission = new IntakeAdmission(Options.Create(new IntakeLimits { HourlyPosts = 4, PostsPerFormToken = 3, AdmissionWaitSeconds = 0 }), _clock, _dataSource);
        var (browser, token) = IssueToNewBrowser();
        var read = _tokens.Read(Posting(browser), token)!;
        for (var i = 0; i < 3; i++)
        {
            using var kept = await admission.AdmitAsync(read, CancellationToken.None);
            kept.Kept();
        }

        for (var i = 0; i < 20; i++)
        {
            await Assert.ThrowsAsync<SubmissionRejectedException>(() => admission.AdmitAsync(read, CancellationToken.None));
        }

        var context = Posting(browser);
        using var fourth = await admission.AdmitAsync(_tokens.Read(context, _tokens.Issue(context))!, CancellationToken.None);
        fourth.Kept();
        var busy = await Assert.ThrowsAsync<SubmissionRejectedException>(() => admission.AdmitAsync(_tokens.Read(context, _tokens.Issue(context))!, CancellationToken.None));
        Assert.Equal(SubmissionProblem.Busy, busy.Problem);
    }

    [Fact]
    public async Task A_post_that_is_not_kept_gives_back_its_tokens_post_and_the_hours_budget()
    {
        using var admission = new IntakeAdmission(Options.Create(new IntakeLimits { HourlyPosts = 1, PostsPerFormToken = 1, AdmissionWaitSeconds = 0 }), _clock, _dataSource);
        var (browser, token) = IssueToNewBrowser();
        var read = _tokens.Read(Posting(browser), token)!;

        for (var i = 0; i < 5; i++)
        {
            using var refused = await admission.AdmitAsync(read, CancellationToken.None);
            await refused.TakeBytesAsync(100, CancellationToken.None);
        }

        using var kept = await admission.AdmitAsync(read, CancellationToken.None);
        kept.Kept();
    }

    private (string Cookie, string Token) IssueToNewBrowser()
    {
        var context = new DefaultHttpContext();
        var token = _tokens.Issue(context);
        var setCookie = context.Response.Headers.SetCookie.ToString();
        var cookie = setCookie[(FormTokens.CookieName.Length + 1)..setCookie.IndexOf(';', StringComparison.Ordinal)];
        return (cookie, token);
    }

    private static DefaultHttpContext Posting(string cookie)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = $"{FormTokens.CookieName}={cookie}";
        return context;
    }
}
