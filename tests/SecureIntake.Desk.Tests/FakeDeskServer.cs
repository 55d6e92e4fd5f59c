using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SecureIntake.Contracts;

namespace SecureIntake.Desk.Tests;

/// <summary>
/// The desk API as its contract describes it, and no more, on a free loopback port: the tool is tested against
/// the contract, not against the server's implementation.
/// </summary>
internal sealed class FakeDeskServer : IAsyncDisposable
{
    public const string EditorName = "alice";
    public const string EditorPassword = "correct horse battery staple";
    public const string EditorCode = "123456";
    public static readonly DateTimeOffset SessionExpiry = new(2099, 11, 30, 18, 0, 0, TimeSpan.Zero);

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, bool> _tokens = new();

    private FakeDeskServer(WebApplication app)
    {
        _app = app;
    }

    public string Url => _app.Urls.Single();

    public bool ThrottleSignIns { get; set; }

    /// <summary>The query strings of the list calls, as they arrived.</summary>
    public ConcurrentQueue<string> ListQueries { get; } = new();

    /// <summary>What the list call answers.</summary>
    public SubmissionPage Queue { get; set; } = new(1, 1, 0, []);

    /// <summary>When set, the list call answers this JSON instead: a server of another version, whose answer has drifted.</summary>
    public string? QueueJson { get; set; }

    public ConcurrentDictionary<Guid, byte[]> Archives { get; } = new();

    public static async Task<FakeDeskServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var server = new FakeDeskServer(builder.Build());
        server.MapDeskApi();
        await server._app.StartAsync();
        return server;
    }

    /// <summary>Every session ends, as when they expire or an admin disables the account.</summary>
    public void EndAllSessions() => _tokens.Clear();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private void MapDeskApi()
    {
        var api = _app.MapGroup("/desk/api");
        api.MapPost("/sign-in", (SignInRequest body) =>
        {
            if (ThrottleSignIns)
            {
                return Results.Problem(title: "Too many attempts", detail: "Too many sign-in attempts; try again in 15 minutes.", statusCode: 429);
            }

            if (body is not { Name: EditorName, Password: EditorPassword, Code: EditorCode })
            {
                return Results.Problem(title: "Sign-in failed", detail: "The name, password or code is wrong.", statusCode: 401);
            }

            var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            _tokens[token] = true;
            return Results.Ok(new SignInResponse(token, SessionExpiry));
        });
        api.MapGet("/submissions", (HttpContext context) =>
        {
            if (!SignedIn(context))
            {
                return SignInAgain();
            }

            ListQueries.Enqueue(context.Request.QueryString.Value ?? "");
            return QueueJson is null ? Results.Ok(Queue) : Results.Text(QueueJson, "application/json");
        });
        api.MapGet("/submissions/{id:guid}/archive", (Guid id, HttpContext context) =>
        {
            if (!SignedIn(context))
            {
                return SignInAgain();
            }

            return Archives.TryGetValue(id, out var archive)
                ? Results.Bytes(archive, "application/zip")
                : Results.Problem(title: "Not found", detail: "No submission with this id is on your desks.", statusCode: 404);
        });
    }

    private bool SignedIn(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.Ordinal) && _tokens.ContainsKey(authorization["Bearer ".Length..]);
    }

    private static IResult SignInAgain() =>
        Results.Problem(title: "Not signed in", detail: "The session is missing or has expired.", statusCode: 401);
}
