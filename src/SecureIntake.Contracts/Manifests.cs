namespace SecureIntake.Contracts;

// Item and batch ids are written as the server formats them (UUIDs today) and read as opaque text: the desk tool
// judges each item on its own, so one odd id costs that item, not the whole submission.

/// <summary>manifest.json at the root of a submission archive; it is plaintext, so it holds metadata only.</summary>
public sealed record ArchiveManifest(
    int Version,
    Guid Submission,
    string Desk,
    string Channel,
    DateTimeOffset ReceivedAt,
    IReadOnlyList<ArchiveItem> Items)
{
    /// <summary>The only version written and read; a reader refuses any other rather than guess at it.</summary>
    public const int CurrentVersion = 1;
}

/// <summary>One encrypted item of the archive, stored in it as <see cref="File"/> byte for byte.</summary>
public sealed record ArchiveItem(string File, string Id, string Batch, string Kind, string Author, DateTimeOffset AddedAt, long CiphertextBytes);

/// <summary>
/// What an item of kind "manifest" decrypts to: the witness batch's own list, the only place that holds the
/// original file names. A mail submission has none since the email became its own; older ones still do.
/// </summary>
public sealed record BatchManifest(int Version, Guid Submission, string Batch, string Channel, IReadOnlyList<BatchItem> Items)
{
    public const int CurrentVersion = 1;
}

/// <param name="Note">
/// Something the editors should know about the item: the mail gateway wrote that the sender had encrypted an email
/// already, while emails still came with a manifest. Optional, so that manifests stored before it existed still read;
/// no longer written.
/// </param>
public sealed record BatchItem(string Id, string Kind, string? FileName, string? ContentType, long? Bytes, string? Note = null);
