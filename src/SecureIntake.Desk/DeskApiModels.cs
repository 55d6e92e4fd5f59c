using System.Text.Json;
using System.Text.Json.Serialization;

namespace SecureIntake.Desk;

// The desk API's shapes (camelCase JSON). Records with required parameters: an answer missing a field, or
// holding null where the contract has none, fails to read instead of turning into empty values.

internal sealed record SignInRequest(string Name, string Password, string Code);

internal sealed record SignInResponse(string Token, DateTimeOffset ExpiresAt);

internal sealed record SubmissionPage(int Page, int PageCount, int Total, IReadOnlyList<SubmissionSummary> Submissions);

internal sealed record SubmissionSummary(
    Guid Id,
    string Desk,
    string Channel,
    DateTimeOffset ReceivedAt,
    string Status,
    string? Assignee,
    string Priority,
    IReadOnlyList<string> Tags,
    int Files,
    string SizeBucket,
    bool WitnessWroteSinceSeen);

/// <summary>manifest.json at the root of a submission archive; it is in plaintext on the server.</summary>
internal sealed record ArchiveManifest(
    int Version,
    Guid Submission,
    string Desk,
    string Channel,
    DateTimeOffset ReceivedAt,
    IReadOnlyList<ArchiveItem> Items);

internal sealed record ArchiveItem(string File, string Id, string Batch, string Kind, string Author, DateTimeOffset AddedAt, long CiphertextBytes);

/// <summary>What an item of kind "manifest" decrypts to: the witness batch's own list, with the original file names.</summary>
internal sealed record BatchManifest(int Version, Guid Submission, string Batch, string Channel, IReadOnlyList<BatchItem> Items);

internal sealed record BatchItem(string Id, string Kind, string? FileName, string? ContentType, long? Bytes);

/// <summary>RFC 7807 problem details; only what is shown to the editor is read.</summary>
internal sealed record Problem(string? Title, string? Detail);

/// <summary>The session file: all that list and pull need, and nothing about the editor's password.</summary>
internal sealed record DeskSession(string Server, string Token, DateTimeOffset ExpiresAt);

/// <summary>manifest.json written beside the decrypted files of a pulled submission.</summary>
internal sealed record PulledManifest(
    int Version,
    Guid Submission,
    string Desk,
    string Channel,
    DateTimeOffset ReceivedAt,
    IReadOnlyList<PulledFile> Files,
    IReadOnlyList<PulledFailure> NotDecrypted);

internal sealed record PulledFile(
    string Name,
    string? OriginalName,
    string Kind,
    string Author,
    string Batch,
    DateTimeOffset AddedAt,
    long Bytes,
    string? ContentType,
    string Item,
    string Encrypted);

internal sealed record PulledFailure(string Item, string Kind, string Batch, DateTimeOffset AddedAt, string? Encrypted, string Reason);

[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    WriteIndented = true)]
[JsonSerializable(typeof(SignInRequest))]
[JsonSerializable(typeof(SignInResponse))]
[JsonSerializable(typeof(SubmissionPage))]
[JsonSerializable(typeof(ArchiveManifest))]
[JsonSerializable(typeof(BatchManifest))]
[JsonSerializable(typeof(Problem))]
[JsonSerializable(typeof(DeskSession))]
[JsonSerializable(typeof(PulledManifest))]
internal sealed partial class DeskJson : JsonSerializerContext;
