using System.Net;
using System.Text;

namespace SecureIntake.Server.Tests.Witness;

public sealed class PagesTests(WitnessService service) : IClassFixture<WitnessService>
{
    private static readonly string[] Languages = ["en", "ru", "kk"];

    [Fact]
    public async Task The_root_leads_to_the_default_language()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = service.Client.BaseAddress };

        using var response = await client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/en", response.Headers.Location!.ToString());
    }

    [Theory]
    [InlineData("en", "Send us testimony or documents safely", "Use Tor Browser")]
    [InlineData("ru", "Передайте нам свидетельство или документы безопасно", "Используйте Tor Browser")]
    [InlineData("kk", "Бізге куәлікті немесе құжаттарды қауіпсіз жіберіңіз", "Tor Browser-ді")]
    public async Task The_landing_page_speaks_each_language_and_links_to_the_others(string language, string heading, string safety)
    {
        var page = await GetPageAsync($"/{language}");

        Assert.Contains($"<html lang=\"{language}\">", page, StringComparison.Ordinal);
        Assert.Contains(heading, page, StringComparison.Ordinal);
        Assert.Contains(safety, page, StringComparison.Ordinal);
        Assert.Contains($"href=\"/{language}/submit\"", page, StringComparison.Ordinal);
        foreach (var other in Languages.Where(l => l != language))
        {
            Assert.Contains($"href=\"/{other}\"", page, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("en", "Up to 8 MB in all and 3 files.")]
    [InlineData("ru", "Не более 8 МБ всего и 3 файлов.")]
    [InlineData("kk", "Барлығы 8 МБ дейін және 3 файл.")]
    public async Task The_form_states_the_limits_up_front_in_the_witness_language(string language, string limits)
    {
        var page = await GetPageAsync($"/{language}/submit");

        Assert.Contains(limits, page, StringComparison.Ordinal);
        Assert.Contains($"action=\"/{language}/submit\"", page, StringComparison.Ordinal);
        Assert.Contains("enctype=\"multipart/form-data\"", page, StringComparison.Ordinal);
        Assert.Contains("maxlength=\"2000\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_need_no_script_and_load_nothing_from_another_origin()
    {
        foreach (var path in new[] { "/en", "/ru/submit", "/kk/submit" })
        {
            var page = await GetPageAsync(path);

            Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("http:", page, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("https:", page, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("style=", page, StringComparison.OrdinalIgnoreCase);
        }

        using var css = await service.Client.GetAsync(new Uri("/static/site.css", UriKind.Relative));
        Assert.Equal("text/css", css.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task A_refusal_is_explained_in_the_witness_language()
    {
        using var form = WitnessForms.Multipart(service.Token, " ");

        using var response = await service.Client.PostAsync(new Uri("/kk/submit", UriKind.Relative), form);
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("<html lang=\"kk\">", page, StringComparison.Ordinal);
        Assert.Contains("Жіберетін ештеңе жоқ", page, StringComparison.Ordinal);
        Assert.Contains("Оның ешбірі сақталмады.", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_page_arrives_whole_with_its_length_and_as_utf8_html()
    {
        using var response = await service.Client.GetAsync(new Uri("/ru/submit", UriKind.Relative));
        var bytes = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        Assert.False(response.Headers.TransferEncodingChunked ?? false);
        Assert.EndsWith("</html>\n", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clearnet_pages_point_tor_browser_to_the_onion_address()
    {
        using var response = await service.Client.GetAsync(new Uri("/ru/submit", UriKind.Relative));

        Assert.Equal($"http://{WitnessService.OnionAddress}/ru/submit", response.Headers.GetValues("Onion-Location").Single());
    }

    [Fact]
    public async Task A_language_we_do_not_have_is_not_found()
    {
        using var response = await service.Client.GetAsync(new Uri("/de/submit", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private async Task<string> GetPageAsync(string path)
    {
        using var response = await service.Client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        return await response.Content.ReadAsStringAsync();
    }
}
