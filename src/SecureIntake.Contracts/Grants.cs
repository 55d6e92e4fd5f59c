namespace SecureIntake.Contracts;

// Grants and revokes (/desk/api/submissions/{id}/keys...): key packets travel as base64 of their binary OpenPGP bytes.
// They carry session keys encrypted to public keys only; the server never sees a session key or any content.

/// <summary>GET /desk/api/submissions/{id}/keys: every item's key packets, and the desk's current recipients.</summary>
/// <param name="DeskRecipients">The submission desk's usable recipient certificates (base64 binary OpenPGP), for `grant --desk`.</param>
public sealed record SubmissionKeys(Guid Submission, IReadOnlyList<ItemKeys> Items, IReadOnlyList<string> DeskRecipients);

/// <param name="Packets">The item's key packets exactly as stored, base64.</param>
/// <param name="Readers">Who the packets are for, in their order.</param>
public sealed record ItemKeys(string Item, string Packets, IReadOnlyList<KeyReader> Readers);

/// <summary>One key packet's recipient: its key id, and the recipient key it belongs to when the server knows it.</summary>
public sealed record KeyReader(string KeyId, string? Fingerprint, string? UserId);

/// <summary>POST /desk/api/submissions/{id}/items/{item}/keys: new key packets for the item (base64).</summary>
public sealed record GrantRequest(string Packets);

/// <summary>POST /desk/api/submissions/{id}/items/{item}/keys/revoke: the key id (16 hex digits) whose packet goes.</summary>
public sealed record RevokeRequest(string KeyId);

/// <summary>What a grant or revoke left: the item's key ids now.</summary>
public sealed record KeyChangeResponse(string Item, IReadOnlyList<string> KeyIds);
