using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using SecureIntake.Core.Codenames;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Web.Witness.Admission;

namespace SecureIntake.Web.Witness;

/// <summary>
/// Reads a witness's multipart form post part by part, straight off the connection: each file part flows
/// into the intake draft (and so into encryption) as it arrives, and nothing is buffered to disk, which
/// ASP.NET's buffered form reading would do with large uploads (as plaintext temp files).
/// Expected fields, in form order: token (anti-forgery, first), desk (optional), message, website (a honeypot
/// that must stay empty), files.
/// </summary>
internal sealed class MultipartSubmission(IntakeService intake, Codenames codenames, FormTokens tokens, IntakeAdmission admission, IOptions<IntakeLimits> options)
{
    private const int MaxBoundaryLength = 70; // RFC 2046
    private const int MaxDeskNameCharacters = 63;
    private readonly IntakeLimits _limits = options.Value;

    /// <summary>
    /// Takes in a new submission (<paramref name="followUpOf"/> null: it gets a codename, returned once) or a
    /// follow-up on the signed-in witness's submission. The form token is read and verified first; only then is
    /// the post admitted (<see cref="IntakeAdmission"/>) and anything spent on it.
    /// </summary>
    public async Task<ReceivedSubmission> ReceiveAsync(HttpContext context, PostBody body, Guid? followUpOf, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var boundary = Boundary(request.ContentType);
        var reader = new MultipartReader(boundary, body) { HeadersCountLimit = 16, HeadersLengthLimit = 16 * 1024 };
        var desk = RecipientStore.DefaultDesk;
        AdmissionTicket? admitted = null;
        SubmissionDraft? draft = null;
        var files = 0;
        var messageSeen = false;
        try
        {
            admitted = await AdmitAsync(context, reader, body, cancellationToken);
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                // (IsFormDisposition() is false for file parts: it means form-data *without* a file name.)
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                {
                    throw new SubmissionRejectedException(SubmissionProblem.Malformed);
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;

                if (disposition.IsFileDisposition())
                {
                    var fileName = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                    if (string.IsNullOrEmpty(fileName))
                    {
                        // A file input left empty still sends a part, with no name and no content (nothing else may hide there).
                        Require(await section.Body.ReadAsync(new byte[1], cancellationToken) == 0, SubmissionProblem.Malformed);
                        continue;
                    }

                    Require(fileName.Length <= _limits.MaxFileNameCharacters, SubmissionProblem.FileNameTooLong);
                    Require(++files <= _limits.MaxFiles, SubmissionProblem.TooManyFiles);
                    draft ??= await StartAsync(desk, followUpOf, cancellationToken);
                    await draft.AddAsync(ItemKind.File, fileName, section.ContentType, section.Body, cancellationToken);
                    continue;
                }

                switch (name)
                {
                    case "desk":
                        // The desk decides the recipients, so it must come before any content.
                        Require(draft is null, SubmissionProblem.Malformed);
                        desk = await ReadTextAsync(section, MaxDeskNameCharacters, SubmissionProblem.Malformed, cancellationToken);
                        break;
                    case "message":
                        // One message per post: each item costs a blob, fsyncs and a public-key operation per recipient.
                        Require(!messageSeen, SubmissionProblem.Malformed);
                        messageSeen = true;
                        var message = await ReadTextAsync(section, _limits.MaxMessageCharacters, SubmissionProblem.MessageTooLong, cancellationToken);
                        if (!string.IsNullOrWhiteSpace(message))
                        {
                            draft ??= await StartAsync(desk, followUpOf, cancellationToken);
                            using var text = new MemoryStream(Encoding.UTF8.GetBytes(message));
                            await draft.AddAsync(ItemKind.Message, null, "text/plain; charset=utf-8", text, cancellationToken);
                        }

                        break;
                    case "website":
                        // Invisible to people, filled in by form-spamming bots.
                        var honeypot = await ReadTextAsync(section, 1000, SubmissionProblem.Malformed, cancellationToken);
                        Require(honeypot.Length == 0, SubmissionProblem.NotAccepting);
                        break;
                    case "files":
                        // An empty file input can also arrive without a file name at all; it must be empty too.
                        Require(await section.Body.ReadAsync(new byte[1], cancellationToken) == 0, SubmissionProblem.Malformed);
                        break;
                    default:
                        // Our form sends no other field; reading one would let a post hold its slot on bytes we never keep.
                        throw new SubmissionRejectedException(SubmissionProblem.Malformed);
                }
            }

            Require(draft is not null, SubmissionProblem.Empty);
            string? codename = null;
            if (followUpOf is null)
            {
                codename = codenames.Generate();
                draft!.SetCodename(await codenames.DeriveAsync(codename, cancellationToken));
            }

            var submissionId = await draft!.CommitAsync(cancellationToken);
            admitted.Kept();
            return new ReceivedSubmission(submissionId, codename);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own limits: the body over twice ours, too slow for MinRequestBodyDataRate, or broken framing.
            throw new SubmissionRejectedException(e.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => SubmissionProblem.TooLarge,
                StatusCodes.Status408RequestTimeout => SubmissionProblem.Stalled,
                _ => SubmissionProblem.Malformed,
            });
        }
        catch (Exception e) when (e is InvalidDataException or DecoderFallbackException || (e is IOException && body.Ended))
        {
            // The multipart reader's "unexpected end of stream" is an IOException too: the client's when the body ended early.
            throw new SubmissionRejectedException(SubmissionProblem.Malformed);
        }
        catch (UnknownDeskException)
        {
            throw new SubmissionRejectedException(SubmissionProblem.UnknownDesk);
        }
        catch (IntakeRefusedException refused)
        {
            throw new SubmissionRejectedException(refused.Reason == IntakeRefusal.SubmissionGone ? SubmissionProblem.ThreadGone : SubmissionProblem.NotAccepting);
        }
        finally
        {
            if (draft is not null)
            {
                await draft.DisposeAsync();
            }

            admitted?.Dispose();
        }
    }

    /// <summary>
    /// Reads the first part, which must be our form's token, verifies it, and only then asks for admission:
    /// a post without a valid token costs the server no slot, no disk room and no hashing.
    /// </summary>
    private async Task<AdmissionTicket> AdmitAsync(HttpContext context, MultipartReader reader, PostBody body, CancellationToken cancellationToken)
    {
        var section = await reader.ReadNextSectionAsync(cancellationToken) ?? throw new SubmissionRejectedException(SubmissionProblem.CrossSite);
        Require(ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
            && HeaderUtilities.RemoveQuotes(disposition.Name).Value == FormTokens.FieldName && !disposition.IsFileDisposition(), SubmissionProblem.CrossSite);
        var token = tokens.Read(context, await ReadTextAsync(section, FormTokens.MaxTokenCharacters, SubmissionProblem.CrossSite, cancellationToken))
            ?? throw new SubmissionRejectedException(SubmissionProblem.CrossSite);
        var admitted = await admission.AdmitAsync(token, cancellationToken);
        body.CountAgainst(admitted);
        return admitted;
    }

    private Task<SubmissionDraft> StartAsync(string desk, Guid? followUpOf, CancellationToken cancellationToken) =>
        followUpOf is { } submission
            ? intake.StartFollowUpAsync(submission, cancellationToken)
            : intake.StartAsync(desk, "web", cancellationToken);

    private static string Boundary(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw new SubmissionRejectedException(SubmissionProblem.NotMultipart);
        }

        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        return string.IsNullOrEmpty(boundary) || boundary.Length > MaxBoundaryLength
            ? throw new SubmissionRejectedException(SubmissionProblem.NotMultipart)
            : boundary;
    }

    /// <summary>Reads a text field into memory (never to disk), refusing it past <paramref name="maxCharacters"/>.</summary>
    private static async Task<string> ReadTextAsync(MultipartSection section, int maxCharacters, SubmissionProblem tooLong, CancellationToken cancellationToken)
    {
        var maxBytes = (maxCharacters * 4L) + 4; // UTF-8 takes at most four bytes a character
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await section.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            Require(buffer.Length + read <= maxBytes, tooLong);
            buffer.Write(chunk, 0, read);
        }

        var text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        Require(text.Length <= maxCharacters, tooLong);
        return text;
    }

    private static void Require(bool condition, SubmissionProblem problem)
    {
        if (!condition)
        {

            throw new SubmissionRejectedException(problem);
        }
    }
}

/// <summary>What a witness is told after a post was kept: the codename only for a new submission, and only now.</summary>
internal sealed record ReceivedSubmission(Guid SubmissionId, string? Codename);
