using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace SecureIntake.Benchmarks;

/// <summary>
/// Witnesses as Tor Browser at its "Safest" level sends them (no JavaScript): each opens the form in a browser
/// session of its own, keeps its cookie, and posts the token first, then a message and one file, with the headers
/// such a browser sends on a same-origin post under Referrer-Policy: no-referrer. A submission counts as received
/// only when the answer is 200 and shows a codename.
/// </summary>
internal sealed partial class HonestWitnesses(Uri address, byte[] file)
{
    /// <summary>How long one request may take before the witness gives up, as a browser eventually would.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromMinutes(2);

    private const string Message = "I saw the police close the square at 14:10; the video is attached. Benchmark witness.";

    /// <summary>
    /// <paramref name="count"/> submissions, <paramref name="concurrency"/> at a time; those not started by
    /// <paramref name="lastStart"/> are not sent and count as failed.
    /// </summary>
    public async Task<IReadOnlyList<WitnessOutcome>> RunAsync(int count, int concurrency, DateTimeOffset? lastStart = null)
    {
        var outcomes = new WitnessOutcome[count];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < count)
            {
                outcomes[index] = lastStart is { } end && DateTimeOffset.UtcNow > end
                    ? new WitnessOutcome(false, 0, "not started before the attack ended")
                    : await SubmitAsync();
            }
        }));
        return outcomes;
    }

    private async Task<WitnessOutcome> SubmitAsync()
    {
        var watch = Stopwatch.StartNew();
        using var handler = new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, ConnectTimeout = RequestTimeout };
        using var browser = new HttpClient(handler) { BaseAddress = address, Timeout = RequestTimeout };
        try
        {
            using var formResponse = await browser.GetAsync(new Uri("/en/submit", UriKind.Relative));
            var page = await formResponse.Content.ReadAsStringAsync();
            if (formResponse.StatusCode != HttpStatusCode.OK || TokenPattern().Match(page) is not { Success: true } token)
            {
                return new WitnessOutcome(false, watch.Elapsed.TotalMilliseconds, $"form page answered {(int)formResponse.StatusCode}");
            }

            using var post = new HttpRequestMessage(HttpMethod.Post, new Uri("/en/submit", UriKind.Relative)) { Content = Form(token.Groups[1].Value) };
            post.Headers.Add("Origin", "null");
            post.Headers.Add("Sec-Fetch-Site", "same-origin");
            using var response = await browser.SendAsync(post);
            var answer = await response.Content.ReadAsStringAsync();
            var elapsed = watch.Elapsed.TotalMilliseconds;
            return response.StatusCode != HttpStatusCode.OK ? new WitnessOutcome(false, elapsed, $"post answered {(int)response.StatusCode}")
                : CodenamePattern().IsMatch(answer) ? new WitnessOutcome(true, elapsed, "received")
                : new WitnessOutcome(false, elapsed, "post answered 200 without a codename");
        }
        catch (TaskCanceledException)
        {
            return new WitnessOutcome(false, watch.Elapsed.TotalMilliseconds, $"no answer within {RequestTimeout.TotalSeconds:F0} s");
        }
        catch (HttpRequestException e)
        {
            return new WitnessOutcome(false, watch.Elapsed.TotalMilliseconds, $"connection failed ({e.HttpRequestError})");
        }
    }

    private MultipartFormDataContent Form(string token)
    {
        var video = new ByteArrayContent(file);
        video.Headers.ContentType = new MediaTypeHeaderValue("video/mp4");
        return new MultipartFormDataContent
        {
            { new StringContent(token), "token" },
            { new StringContent(Message, Encoding.UTF8), "message" },
            { video, "files", "square.mp4" },
        };
    }

    [GeneratedRegex("name=\"token\" value=\"([^\"]+)\"")]
    internal static partial Regex TokenPattern();

    [GeneratedRegex("id=\"your-codename\">[^<\\s]")]
    internal static partial Regex CodenamePattern();
}

/// <summary>One honest submission: received or not, its time (form and post) and what happened, in words.</summary>
internal sealed record WitnessOutcome(bool Received, double Milliseconds, string Result);
