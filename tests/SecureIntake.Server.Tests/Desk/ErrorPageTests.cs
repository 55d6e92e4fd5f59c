using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SecureIntake.Web;
using SecureIntake.Web.Security;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>The fixed page both the desk and the witness side show when a request fails unexpectedly: a static file, not a string.</summary>
public sealed class ErrorPageTests
{
    [Fact]
    public async Task A_failing_request_gets_the_whole_500_page_with_every_hardening_header()
    {
        var options = Options.Create(new WebOptions());
        options.Value.AllowedHosts.Add("desk.example");
        var hardening = new ResponseHardening(_ => throw new InvalidOperationException("a template failed"), options, NullLogger<ResponseHardening>.Instance);
        var context = new DefaultHttpContext();
        context.Request.Host = new HostString("desk.example");
        using var body = new MemoryStream();
        context.Response.Body = body;

        await hardening.InvokeAsync(context);

        var page = Encoding.UTF8.GetString(body.ToArray());
        Assert.Equal(StatusCodes.Status500InternalServerError, context.Response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", context.Response.ContentType);
        Assert.Equal(body.Length, context.Response.ContentLength);
        Assert.StartsWith("<!doctype html>", page, StringComparison.Ordinal);
        Assert.Contains("<h1>Something went wrong</h1>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("a template failed", page, StringComparison.Ordinal);
        Assert.Equal(ResponseHardening.ContentSecurityPolicy, context.Response.Headers.ContentSecurityPolicy.ToString());
    }
}
