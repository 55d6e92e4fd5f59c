using System.Net;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>A service whose hourly intake budget is three posts and one and a half MiB.</summary>
public sealed class SmallBudgetService() : WitnessTestService("si-budget-blobs-", $"--Intake:MaxRequestBytes={1 << 20}", $"--Intake:HourlyBytes={3 << 19}",
    "--Intake:HourlyPosts=3");

public sealed class HourlyBudgetServiceTests(SmallBudgetService service) : IClassFixture<SmallBudgetService>
{
    [Fact]
    public async Task Past_the_hours_budget_posts_get_the_busy_page_with_retry_after_and_nothing_is_kept()
    {
        // The posts below must all fall in one clock hour; close to its end, wait for the next one.
        if (UntilNextHour() < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(UntilNextHour() + TimeSpan.FromSeconds(1));
        }

        using var witness = WitnessForms.NewBrowserlikeClient(service.Address);
        var blobs = Directory.GetFiles(service.BlobDirectory).Length;

        // 900 KiB fits; the next 900 KiB crosses 1.5 MiB of bytes while it streams in.
        using var first = await PostAsync(witness, new byte[900 << 10]);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var afterFirst = Directory.GetFiles(service.BlobDirectory).Length;
        Assert.True(afterFirst > blobs);
        using var overBytes = await PostAsync(witness, new byte[900 << 10]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, overBytes.StatusCode);
        Assert.True(overBytes.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        var page = await overBytes.Content.ReadAsStringAsync();
        Assert.Contains("<html lang=\"kk\">", page, StringComparison.Ordinal);
        Assert.Contains("минуттан кейін қайталап көріңіз", page, StringComparison.Ordinal);
        Assert.Equal(afterFirst, Directory.GetFiles(service.BlobDirectory).Length);

        // The refused post gave its share back: one post is counted, so two more fit in the hour and then none.
        using var second = await PostAsync(witness, new byte[10]);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        using var third = await PostAsync(witness, new byte[10]);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        var before = UntilNextHour();
        using var overPosts = await PostAsync(witness, new byte[10]);
        var after = UntilNextHour();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, overPosts.StatusCode);
        // The budget is whole again when the next clock hour begins; the page counts whole minutes, rounded up.
        var retryAfter = overPosts.Headers.RetryAfter!.Delta!.Value;
        Assert.Equal(0, retryAfter.Ticks % TimeSpan.TicksPerMinute);
        Assert.InRange(retryAfter, after, before + TimeSpan.FromMinutes(1));
    }

    private static TimeSpan UntilNextHour()
    {
        var now = DateTimeOffset.UtcNow;
        return TimeSpan.FromHours(1) - (now - new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero));
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient witness, byte[] file)
    {
        var form = WitnessForms.Multipart(await WitnessForms.TokenAsync(witness, "/kk/submit"), "куәгер");
        form.Add(new ByteArrayContent(file), "files", "file.bin");
        return await witness.PostAsync(new Uri("/kk/submit", UriKind.Relative), form);
    }
}
