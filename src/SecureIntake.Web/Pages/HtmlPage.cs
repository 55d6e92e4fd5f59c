using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using RazorSlices;

namespace SecureIntake.Web.Pages;

/// <summary>
/// A compiled page as an endpoint's result. RazorSlices' own result streams the page and starts the response before
/// rendering; this renders it into memory first, so the answer keeps its Content-Length, and a fault in a template
/// still becomes the plain error page with every hardening header rather than a page cut off half-way.
/// </summary>
public sealed class HtmlPage : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    // Cyrillic and Kazakh letters as themselves, not as &#x...; entities: pages stay small and readable. Markup
    // characters (< > & " ') are encoded all the same.
    internal static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    public HtmlPage(RazorSlice slice, int statusCode = StatusCodes.Status200OK)
    {
        Slice = slice;
        StatusCode = statusCode;
    }

    public RazorSlice Slice { get; }

    public int StatusCode { get; }

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public string ContentType => "text/html; charset=utf-8";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        using var html = new MemoryStream();
        await RenderAsync(html, httpContext.RequestServices, httpContext.RequestAborted);

        httpContext.Response.StatusCode = StatusCode;
        httpContext.Response.ContentType = ContentType;
        httpContext.Response.ContentLength = html.Length;
        await httpContext.Response.Body.WriteAsync(html.GetBuffer().AsMemory(0, (int)html.Length), httpContext.RequestAborted);
    }

    /// <summary>Renders the page as UTF-8; services (the texts) come from <paramref name="services"/>.</summary>
    public async Task RenderAsync(Stream destination, IServiceProvider services, CancellationToken cancellationToken)
    {
        Slice.ServiceProvider = services;
        await Slice.RenderAsync(destination, Encoder, cancellationToken);
    }
}
