using System.Text.Json;
using System.Text.Json.Serialization;

namespace SecureIntake.Desk;

// The tool's own files and what it reads of an error; what the server sends is in SecureIntake.Contracts. Read and
// written with the same settings as the contracts: a session file missing a field fails to read instead of turning into empty values.

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
    string Encrypted,
    string? Note);

internal sealed record PulledFailure(string Item, string Kind, string Batch, DateTimeOffset AddedAt, string? Encrypted, string Reason);

[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    WriteIndented = true)]
[JsonSerializable(typeof(Problem))]
[JsonSerializable(typeof(DeskSession))]
[JsonSerializable(typeof(PulledManifest))]
internal sealed partial class DeskJson : JsonSerializerContext;
