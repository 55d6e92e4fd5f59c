using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using SecureIntake.Contracts;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Codenames;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Core.Intake;

/// <summary>
/// One batch of items on its way in (a form post, an email, a follow-up). Each item streams straight
/// into OpenPGP encryption and a blob that is fsynced before the next one starts; <see cref="CommitAsync"/>
/// adds the encrypted manifest (an email needs none) and commits rows and triage job in one transaction. Disposed without a
/// successful commit, it deletes every blob it wrote: nothing is left half-stored. Until then it holds its
/// blobs open (and so locked), so the orphan sweep never takes an item of an upload that is still arriving.
/// </summary>
public sealed class SubmissionDraft : IAsyncDisposable
{
    // Names stay readable in the decrypted manifest (Cyrillic and Kazakh letters unescaped); it is never put into HTML.
    private static readonly JsonTypeInfo<BatchManifest> ManifestJson = (JsonTypeInfo<BatchManifest>)new JsonSerializerOptions(ContractJson.Default.Options)
    {
        Encoder = JavaScriptEncoder.Create(UnicodeRanges.All),
        WriteIndented = false,
    }.GetTypeInfo(typeof(BatchManifest));

    private readonly SubmissionWriter _writer;
    private readonly BlobStore _blobs;
    private readonly IReadOnlyList<RecipientKey> _recipients;
    private readonly List<DraftItem> _items = [];
    private readonly List<PendingBlob> _held = [];
    private readonly bool _durableLater;
    private bool _committed;
    private bool _outcomeUnknown;

    /// <param name="durableLater">For a group commit (<see cref="IntakeBatch"/>): blobs are sealed without their fsyncs, which the batch does for all at once.</param>
    internal SubmissionDraft(SubmissionWriter writer, BlobStore blobs, IReadOnlyList<RecipientKey> recipients, SubmissionTarget target, bool durableLater = false)
    {
        _writer = writer;
        _blobs = blobs;
        _recipients = recipients;
        Target = target;
        _durableLater = durableLater;
    }

    internal SubmissionTarget Target { get; }

    internal Guid BatchId { get; } = Guid.NewGuid();

    internal IReadOnlyList<DraftItem> Items => _items;

    internal byte[]? CodenameLocator { get; private set; }

    internal ThreadKey? ReplyKey { get; private set; }

    internal MailOrigin? MailOrigin { get; private set; }

    internal IReadOnlyList<PendingBlob> Held => _held;

    internal bool HasManifest => _items.Any(i => i.Kind == ItemKind.Manifest);

    /// <summary>
    /// Whether the submission gets an encrypted manifest. An email is its own: its type is in its kind, and its size, its
    /// attachments' names and whether its sender encrypted it are all in the email, which the editors' tool reads once
    /// decrypted. A second blob with its own key packets for each email was about a third of the mail gateway's CPU.
    /// </summary>
    internal bool NeedsManifest => _items is not [{ Kind: ItemKind.Email }];

    /// <summary>
    /// Where an email came from, recorded in the same transaction as the submission, so that the gateway can
    /// tell after a crash that the message still on the server was already taken in.
    /// </summary>
    public void SetMailOrigin(MailOrigin origin)
    {
        ArgumentNullException.ThrowIfNull(origin);
        MailOrigin = Target.IsNew ? origin : throw new InvalidOperationException("a mail origin belongs to a new submission");
    }

    /// <summary>
    /// Lets the witness come back with their codename: stores its locator (never the codename) and gives the
    /// thread a reply key whose secret half only the codename's unlock key opens.
    /// </summary>
    public void SetCodename(CodenameSecrets secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (!Target.IsNew || secrets.Locator.Length != 32)
        {
            throw new InvalidOperationException("a codename locator is 32 bytes and belongs to a new submission");
        }

        CodenameLocator = secrets.Locator;
        ReplyKey = ThreadKey.Generate(Target.SubmissionId, secrets.UnlockKey);
    }

    /// <summary>
    /// Encrypts <paramref name="content"/> to the desk's recipients into a new durable blob. Disk room is claimed as
    /// the ciphertext is written.
    /// </summary>
    /// <exception cref="IntakeRefusedException">The disk reached Storage:MinimumFreeBytes on the way (<see cref="IntakeRefusal.NoRoom"/>).</exception>
    public async Task AddAsync(ItemKind kind, string? fileName, string? contentType, Stream content, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        var pending = _blobs.Create();
        pending.DurableLater = _durableLater;
        SealedBlob blob;
        try
        {
            blob = await pending.WriteEncryptedAsync(_recipients, content, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await pending.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _held.Add(pending);
        _items.Add(new DraftItem(blob.Id, kind, fileName, contentType, blob.PlaintextBytes, blob.CiphertextBytes));
    }

    /// <summary>Seals the batch: returns the submission id once rows and job are committed, never before.</summary>
    public async Task<Guid> CommitAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        if (_durableLater)
        {
            throw new InvalidOperationException("a draft of a batch is committed with its batch");
        }

        if (NeedsManifest)
        {
            await AddManifestAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await _writer.CommitAsync(this, _blobs, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The commit may have reached PostgreSQL even though its answer did not reach us.
            switch (await _writer.IsCommittedAsync(BatchId).ConfigureAwait(false))
            {
                case true:
                    _committed = true;
                    await ReleaseHeldAsync().ConfigureAwait(false);
                    return Target.SubmissionId;
                case null:
                    _outcomeUnknown = true; // keep the blobs: the orphan sweep deletes them once no row names them
                    break;
            }

            throw;
        }

        _committed = true;
        await ReleaseHeldAsync().ConfigureAwait(false); // committed blobs are the desk's now: readers must be able to open them
        return Target.SubmissionId;
    }

    /// <summary>Adds the encrypted manifest, the last item of every batch of items that needs one (<see cref="NeedsManifest"/>).</summary>
    internal async Task AddManifestAsync(CancellationToken cancellationToken)
    {
        if (_items.Count == 0)
        {
            throw new InvalidOperationException("a submission needs at least one item");
        }

        using var manifest = new MemoryStream(Manifest());
        await AddAsync(ItemKind.Manifest, null, "application/json", manifest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Its batch committed it: the blobs are the desk's now, and disposing must leave them.</summary>
    internal Task CommittedAsync()
    {
        _committed = true;
        return ReleaseHeldAsync();
    }

    /// <summary>Its batch's commit may or may not have reached PostgreSQL: the orphan sweep decides about the blobs.</summary>
    internal void OutcomeUnknown() => _outcomeUnknown = true;

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Closed first: a deleted file's room comes back only once nothing holds it open.
            await ReleaseHeldAsync().ConfigureAwait(false);
        }
        finally
        {
            if (!_committed && !_outcomeUnknown)
            {
                _blobs.Delete(_items.Select(i => i.Id));
                _items.Clear();
            }
        }
    }

    private async Task ReleaseHeldAsync()
    {
        foreach (var blob in _held)
        {
            await blob.DisposeAsync().ConfigureAwait(false);
        }

        _held.Clear();
    }

    /// <summary>What the editors need to name and open the batch's items; encrypted like the items themselves.</summary>
    private byte[] Manifest() => JsonSerializer.SerializeToUtf8Bytes(
        new BatchManifest(
            BatchManifest.CurrentVersion,
            Target.SubmissionId,
            $"{BatchId:D}",
            Target.Channel,
            _items.Select(i => new BatchItem($"{i.Id:D}", i.Kind.ToString().ToLowerInvariant(), i.FileName, i.ContentType, i.PlaintextBytes)).ToList()),
        ManifestJson);
}

internal sealed record DraftItem(Guid Id, ItemKind Kind, string? FileName, string? ContentType, long PlaintextBytes, long CiphertextBytes);

/// <summary>A message in a mailbox: the folder's UIDVALIDITY and the message's UID, and the SHA-256 of its bytes.</summary>
public sealed record MailOrigin(string Mailbox, long UidValidity, long Uid, byte[] Digest);

/// <summary>Where a draft goes: a new submission on a desk, or a follow-up on an existing one.</summary>
internal sealed record SubmissionTarget(Guid SubmissionId, Guid DeskId, string Channel, bool IsNew);
