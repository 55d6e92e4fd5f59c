using System.Text.Json;
using System.Text.Json.Serialization;

namespace SecureIntake.Contracts;

/// <summary>
/// The one way the contracts are written and read. Required constructor parameters and nullable annotations are
/// enforced both ways: a reader refuses an answer missing a field or holding null where there is none, and a
/// writer cannot send one.
/// </summary>
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
[JsonSerializable(typeof(SubmissionKeys))]
[JsonSerializable(typeof(GrantRequest))]
[JsonSerializable(typeof(RevokeRequest))]
[JsonSerializable(typeof(KeyChangeResponse))]
public sealed partial class ContractJson : JsonSerializerContext;
