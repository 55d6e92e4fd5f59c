using System.Net;
using SecureIntake.Server.Tests.Witness;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Cluster;

/// <summary>Two web nodes behind one onion service: a form re-sent to the other node is refused as it is on the same node.</summary>
public sealed class SharedFormTokenTests() : ClusterTest("si-cluster-tokens-")
{
    [Fact]
    public async Task A_form_received_on_one_web_node_and_sent_again_to_the_other_is_refused_and_stored_once()
    {
        await using var nodes = new ClusterNodes(Database, Blobs.Path);
        var first = await nodes.StartWebAsync();
        var second = await nodes.StartWebAsync();
        var cookies = new CookieContainer();
        using var toFirst = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = first.Address };
        using var toSecond = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = second.Address };
        var token = await WitnessForms.TokenAsync(toFirst);

        using (var form = WitnessForms.Multipart(token, "the first and only time"))
        using (var received = await toFirst.PostAsync(new Uri("/en/submit", UriKind.Relative), form))
        {
            Assert.Equal(HttpStatusCode.OK, received.StatusCode);
        }

        // As a browser re-sending the form does, after Tor picked the other node for the new connection.
        using (var form = WitnessForms.Multipart(token, "the first and only time"))
        using (var resent = await toSecond.PostAsync(new Uri("/en/submit", UriKind.Relative), form))
        {
            Assert.NotEqual(HttpStatusCode.OK, resent.StatusCode);
            Assert.DoesNotContain("your-codename", await resent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(1L, await nodes.ScalarAsync<long>("SELECT count(*) FROM submissions"));
        await nodes.StopAllAsync();
    }
}
