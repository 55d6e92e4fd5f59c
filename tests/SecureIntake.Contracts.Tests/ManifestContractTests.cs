using System.Text.Json;

namespace SecureIntake.Contracts.Tests;

/// <summary>Manifests already stored on servers keep reading; a manifest that lost a field does not.</summary>
public sealed class ManifestContractTests
{
    // Written by the server before the contracts existed (an anonymous object, web defaults, indented).
    private const string StoredArchiveManifest = """
        {
          "version": 1,
          "submission": "0b9e8d7c-6a5b-4c3d-8e1f-0a9b8c7d6e5f",
          "desk": "default",
          "channel": "web",
          "receivedAt": "2026-11-30T17:05:00+00:00",
          "items": [
            {
              "file": "5d0c3b1e-3f55-4a8e-9d7b-2f1e0c9a8b7d.gpg",
              "id": "5d0c3b1e-3f55-4a8e-9d7b-2f1e0c9a8b7d",
              "batch": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
              "kind": "message",
              "author": "witness",
              "addedAt": "2026-11-30T17:05:00+00:00",
              "ciphertextBytes": 412
            }
          ]
        }
        """;

    // Written inside the encryption before the note existed: compact, names unescaped.
    private const string StoredBatchManifest =
        """{"version":1,"submission":"0b9e8d7c-6a5b-4c3d-8e1f-0a9b8c7d6e5f","batch":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d","channel":"web","items":[{"id":"5d0c3b1e-3f55-4a8e-9d7b-2f1e0c9a8b7d","kind":"file","fileName":"приказ.pdf","contentType":"application/pdf","bytes":200000}]}""";

    [Fact]
    public void An_archive_manifest_as_the_server_wrote_it_reads_and_writes_back_to_the_same_text()
    {
        var manifest = JsonSerializer.Deserialize(StoredArchiveManifest, ContractJson.Default.ArchiveManifest)!;

        Assert.Equal(412, Assert.Single(manifest.Items).CiphertextBytes);
        Assert.Equal(StoredArchiveManifest, JsonSerializer.Serialize(manifest, ContractJson.Default.ArchiveManifest));
    }

    [Fact]
    public void A_batch_manifest_stored_before_notes_existed_still_reads()
    {
        var batch = JsonSerializer.Deserialize(StoredBatchManifest, ContractJson.Default.BatchManifest)!;

        var item = Assert.Single(batch.Items);
        Assert.Equal("приказ.pdf", item.FileName);
        Assert.Null(item.Note);
    }

    [Theory]
    [InlineData("ciphertextBytes")]
    [InlineData("file")]
    [InlineData("author")]
    public void An_archive_manifest_item_missing_a_field_is_refused(string field)
    {
        var json = JsonSerializer.SerializeToNode(JsonSerializer.Deserialize(StoredArchiveManifest, ContractJson.Default.ArchiveManifest), ContractJson.Default.ArchiveManifest)!;
        json["items"]![0]!.AsObject().Remove(field);

        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(json.ToJsonString(), ContractJson.Default.ArchiveManifest));
    }

    [Fact]
    public void A_batch_manifest_with_no_kind_for_an_item_is_refused()
    {
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(StoredBatchManifest.Replace("\"kind\":\"file\"", "\"kind\":null", StringComparison.Ordinal),
            ContractJson.Default.BatchManifest));
    }
}
