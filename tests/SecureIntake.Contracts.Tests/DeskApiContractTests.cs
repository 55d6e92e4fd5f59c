using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;

namespace SecureIntake.Contracts.Tests;

/// <summary>What the server's minimal API writes is what the desk tool reads, and a drifted answer is refused, not guessed at.</summary>
public sealed class DeskApiContractTests
{
    // The options the server's endpoints serialize their typed results with.
    private static readonly JsonSerializerOptions Server = new JsonOptions().SerializerOptions;

    [Fact]
    public void A_queue_page_counting_more_submissions_than_an_int_holds_reads_back_whole()
    {
        var sent = new SubmissionPage(3, 900_000_000, 3_000_000_000L, [Summary()]);

        var read = JsonSerializer.Deserialize(JsonSerializer.Serialize(sent, Server), ContractJson.Default.SubmissionPage)!;

        Assert.Equal(3_000_000_000L, read.Total);
        Assert.Equal(900_000_000, read.PageCount);
        Assert.Equal(sent.Submissions[0] with { Tags = read.Submissions[0].Tags }, read.Submissions[0]);
        Assert.Equal(["army", "протест"], read.Submissions[0].Tags);
    }

    [Fact]
    public void A_total_above_the_int_range_in_an_answer_is_read_as_it_is()
    {
        var read = JsonSerializer.Deserialize("""{"page":1,"pageCount":1,"total":3000000000,"submissions":[]}""", ContractJson.Default.SubmissionPage)!;

        Assert.Equal(3_000_000_000L, read.Total);
    }

    [Theory]
    [InlineData("total")]
    [InlineData("pageCount")]
    [InlineData("submissions")]
    public void A_queue_page_missing_a_field_is_refused(string field)
    {
        var json = JsonSerializer.SerializeToNode(new SubmissionPage(1, 1, 0, []), Server)!.AsObject();
        json.Remove(field);

        var e = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(json.ToJsonString(), ContractJson.Default.SubmissionPage));
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("receivedAt")]
    [InlineData("witnessWroteSinceSeen")]
    public void A_submission_summary_missing_a_field_is_refused(string field)
    {
        var json = JsonSerializer.SerializeToNode(new SubmissionPage(1, 1, 1, [Summary()]), Server)!.AsObject();
        json["submissions"]![0]!.AsObject().Remove(field);

        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(json.ToJsonString(), ContractJson.Default.SubmissionPage));
    }

    [Fact]
    public void A_sign_in_answer_holding_no_token_is_refused()
    {
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize("""{"token":null,"expiresAt":"2099-01-01T00:00:00+00:00"}""", ContractJson.Default.SignInResponse));
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize("""{"expiresAt":"2099-01-01T00:00:00+00:00"}""", ContractJson.Default.SignInResponse));
    }

    [Fact]
    public void A_summary_without_an_assignee_reads_as_unassigned()
    {
        var json = JsonSerializer.Serialize(new SubmissionPage(1, 1, 1, [Summary() with { Assignee = null }]), Server);

        Assert.Contains("\"assignee\":null", json, StringComparison.Ordinal);
        Assert.Null(JsonSerializer.Deserialize(json, ContractJson.Default.SubmissionPage)!.Submissions[0].Assignee);
    }

    [Fact]
    public void Neither_the_password_nor_the_token_shows_when_a_sign_in_is_printed()
    {
        var request = new SignInRequest("alice", "correct horse battery staple", "123456").ToString();
        var response = new SignInResponse("tok3n-value", DateTimeOffset.UnixEpoch).ToString();

        Assert.Contains("alice", request, StringComparison.Ordinal);
        Assert.DoesNotContain("correct horse", request, StringComparison.Ordinal);
        Assert.DoesNotContain("123456", request, StringComparison.Ordinal);
        Assert.DoesNotContain("tok3n-value", response, StringComparison.Ordinal);
    }

    private static SubmissionSummary Summary() => new(
        Guid.Parse("3f2a6c1e-8d4b-4f7a-9c1e-2b3d4e5f6a7b"), "default", "web", new DateTimeOffset(2026, 11, 30, 17, 5, 0, TimeSpan.Zero), "new", "Әлия", "normal",
        ["army", "протест"], 2, "< 1 MB", true);
}
