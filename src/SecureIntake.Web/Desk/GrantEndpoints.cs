using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Contracts;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Grants;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Triage;
using SecureIntake.Crypto.Grants;
using SecureIntake.Web.Desk.Access;

namespace SecureIntake.Web.Desk;

/// <summary>
/// The desk tool's grant and revoke calls. The server only moves key packets made on an editor's machine: it never
/// holds a session key, so it cannot give anyone access by itself. Every grant and revoke is audited.
/// </summary>
internal static class GrantEndpoints
{
    private const string Submission = "/submissions/{id:guid}";

    /// <summary>Base64 of <see cref="KeyPackets.MaximumLeadingBytes"/>, with room for the JSON around it.</summary>
    private const int MaximumPacketsText = (KeyPackets.MaximumLeadingBytes / 3 * 4) + 8;

    public static RouteGroupBuilder MapGrantApi(this RouteGroupBuilder signedIn)
    {
        signedIn.MapGet(Submission + "/keys", KeysAsync);
        signedIn.MapPost(Submission + "/items/{item:guid}/keys", GrantAsync);
        signedIn.MapPost(Submission + "/items/{item:guid}/keys/revoke", RevokeAsync);
        return signedIn;
    }

    private static async Task<Results<Ok<SubmissionKeys>, ProblemHttpResult>> KeysAsync(Guid id, DeskUser user, TriageActions actions, TriageListing queue,
        ItemKeyPackets items, ItemReaders readers, RecipientStore recipients, CancellationToken cancellationToken)
    {
        if (await actions.DetailsAsync(user.Scope, id, queue, cancellationToken) is not { } details)
        {
            return NotFound("There is no such submission.");
        }

        IReadOnlyList<Core.Grants.ItemKeys> stored;
        try
        {
            stored = await items.ReadAsync(id, cancellationToken);
        }
        catch (GrantRefusedException e)
        {
            return Refused(e);
        }

        var names = await readers.KnownKeysAsync(cancellationToken);
        var (_, deskKeys) = await recipients.UsableKeysAsync(details.Row.Desk, cancellationToken);
        return TypedResults.Ok(new SubmissionKeys(id,
            [.. stored.Select(item => new Contracts.ItemKeys($"{item.ItemId:D}",
                Convert.ToBase64String([.. item.Packets.SelectMany(p => p.Packet.ToArray())]),
                [.. item.Packets.Select(p => names.Describe(p.KeyId))]))],
            [.. deskKeys.Select(k => Convert.ToBase64String(k.GetEncoded()))]));
    }

    private static async Task<Results<Ok<KeyChangeResponse>, ProblemHttpResult>> GrantAsync(Guid id, Guid item, GrantRequest? request, DeskUser user,
        TriageActions actions, TriageListing queue, ItemKeyPackets items, AuditLog audit, CancellationToken cancellationToken)
    {
        if (await actions.DetailsAsync(user.Scope, id, queue, cancellationToken) is null)
        {
            return NotFound("There is no such submission.");
        }

        if (request?.Packets is not { Length: > 0 and <= MaximumPacketsText } text)
        {
            return BadRequest("Send the new key packets as base64 in 'packets'.");
        }

        var packets = new byte[text.Length];
        if (!Convert.TryFromBase64String(text, packets, out var length))
        {
            return BadRequest("'packets' is not base64.");
        }

        try
        {
            var added = await items.AddAsync(id, item, packets.AsMemory(0, length), cancellationToken);
            await audit.WriteAsync(new AuditEntry(user.Id, user.Name, "granted access", id,
                $"item {item:D}: {string.Join(", ", added.Select(KeyPackets.FormatKeyId))}"), cancellationToken);
        }
        catch (GrantRefusedException e)
        {
            return Refused(e);
        }

        return TypedResults.Ok(await StateAsync(id, item, items, cancellationToken));
    }

    private static async Task<Results<Ok<KeyChangeResponse>, ProblemHttpResult>> RevokeAsync(Guid id, Guid item, RevokeRequest? request, DeskUser user,
        TriageActions actions, TriageListing queue, ItemKeyPackets items, AuditLog audit, CancellationToken cancellationToken)
    {
        if (await actions.DetailsAsync(user.Scope, id, queue, cancellationToken) is null)
        {
            return NotFound("There is no such submission.");
        }

        if (request?.KeyId is not { Length: 16 } text || !long.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var keyId))
        {
            return BadRequest("Send the key id to revoke as 16 hex digits in 'keyId'.");
        }

        try
        {
            await items.RevokeAsync(id, item, keyId, cancellationToken);
            await audit.WriteAsync(new AuditEntry(user.Id, user.Name, "revoked access", id, $"item {item:D}: {KeyPackets.FormatKeyId(keyId)}"), cancellationToken);
        }
        catch (GrantRefusedException e)
        {
            return Refused(e);
        }

        return TypedResults.Ok(await StateAsync(id, item, items, cancellationToken));
    }

    private static async Task<KeyChangeResponse> StateAsync(Guid id, Guid item, ItemKeyPackets items, CancellationToken cancellationToken)
    {
        var now = (await items.ReadAsync(id, cancellationToken)).Single(i => i.ItemId == item);
        return new KeyChangeResponse($"{item:D}", [.. now.Packets.Select(p => p.KeyIdHex)]);
    }

    private static ProblemHttpResult Refused(GrantRefusedException e) => e.Refusal switch
    {
        GrantRefusal.NotFound or GrantRefusal.NoSuchKey => NotFound(e.Message),
        GrantRefusal.BadPackets => BadRequest(e.Message),
        GrantRefusal.LastKey => TypedResults.Problem(e.Message, statusCode: StatusCodes.Status409Conflict, title: "Refused"),
        GrantRefusal.NoRoom => TypedResults.Problem(e.Message, statusCode: StatusCodes.Status507InsufficientStorage, title: "No room"),
        _ => TypedResults.Problem(e.Message, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Item not readable"),
    };

    private static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    private static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad key packets");
}
